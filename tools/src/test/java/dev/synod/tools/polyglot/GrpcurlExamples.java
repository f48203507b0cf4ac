package dev.synod.tools.polyglot;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The calls of the README's "grpcurl, call by call" block: for each grpcurl command, the Synod
 * method it calls and the JSON request messages it sends (one for {@code -d '...'}, one per line
 * of the here-document for {@code -d @}).
 */
final class GrpcurlExamples {
  static final String HEADING = "### grpcurl, call by call";
  private static final Pattern METHOD = Pattern.compile("synod\\.v1\\.Synod/(\\w+)");
  private static final Pattern INLINE_DATA = Pattern.compile("-d '(.*?)'", Pattern.DOTALL);
  private static final String HEREDOC = "<<'EOF'";

  /** One grpcurl command of the block. */
  record Call(String method, List<String> messages, String command) {}

  private GrpcurlExamples() {}

  /** The calls in the README's grpcurl block, in order. */
  static List<Call> in(String readme) {
    List<String> lines = block(readme);
    List<Call> calls = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.startsWith("#") || !line.contains("grpcurl ")) {
        continue;
      }
      // A command goes on over the next lines while a single-quoted argument is open.
      StringBuilder command = new StringBuilder(line);
      while (count(command, '\'') % 2 == 1 && i + 1 < lines.size()) {
        command.append('\n').append(lines.get(++i));
      }
      Matcher method = METHOD.matcher(command);
      if (!method.find()) {
        throw new IllegalArgumentException("grpcurl command without a synod.v1.Synod method: " + command);
      }
      List<String> messages = new ArrayList<>();
      if (command.indexOf(HEREDOC) >= 0) {
        while (++i < lines.size() && !lines.get(i).equals("EOF")) {
          messages.add(lines.get(i));
        }
      } else {
        Matcher data = INLINE_DATA.matcher(command);
        if (!data.find()) {
          throw new IllegalArgumentException("grpcurl command without -d '...': " + command);
        }
        messages.add(data.group(1));
      }
      calls.add(new Call(method.group(1), messages, command.toString()));
    }
    return calls;
  }

  /** The lines of the fenced code block that follows the heading. */
  private static List<String> block(String readme) {
    int heading = readme.indexOf(HEADING);
    if (heading < 0) {
      throw new IllegalArgumentException("README has no \"" + HEADING + "\" section");
    }
    int open = readme.indexOf("```", heading);
    int start = readme.indexOf('\n', open) + 1;
    int end = readme.indexOf("\n```", start);
    if (open < 0 || end < 0) {
      throw new IllegalArgumentException("no fenced code block after \"" + HEADING + "\"");
    }
    return readme.substring(start, end).lines().toList();
  }

  private static int count(CharSequence text, char c) {
    return (int) text.chars().filter(x -> x == c).count();
  }
}
