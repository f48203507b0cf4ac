package dev.synod.tools.polyglot;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The README's "grpcurl, call by call" block as steps a shell would run, each with the output the
 * README shows after it (its {@code # } lines). Only what the block uses is understood, and
 * anything else is an error, so the block stays something this test can run:
 * <ul>
 *   <li>{@code NAME=value};
 *   <li>{@code grpcurl [-plaintext] [-emit-defaults] [-max-time N] -d '...' $S service/Method},
 *       or {@code -d @} with a here-document ({@code <<EOF} expands {@code $NAME}, {@code <<'EOF'}
 *       does not), one message per line;
 *   <li>{@code NAME=$(grpcurl ...)}, which keeps the output instead of printing it;
 *   <li>{@code echo "$NAME"};
 *   <li>{@code NAME=$(echo "$OTHER" | jq -r .field)}.
 * </ul>
 */
final class GrpcurlExamples {
  static final String HEADING = "### grpcurl, call by call";
  private static final Pattern METHOD = Pattern.compile("synod\\.v1\\.Synod/(\\w+)");
  private static final Pattern ASSIGN_LITERAL = Pattern.compile("([A-Z_]+)=([^$(\\s]\\S*)");
  private static final Pattern ASSIGN_CALL = Pattern.compile("([A-Z_]+)=\\$\\((grpcurl .*)\\)");
  private static final Pattern ASSIGN_JQ = Pattern.compile(
      "([A-Z_]+)=\\$\\(echo \"\\$([A-Z_]+)\" \\| jq -r \\.(\\w+)\\)");
  private static final Pattern ECHO = Pattern.compile("echo \"\\$([A-Z_]+)\"");
  private static final Pattern VARIABLE = Pattern.compile("\\$([A-Z_]+)|\\$\\{([A-Z_]+)}");

  /** One step of the block, with the output lines shown after it (without their "# "). */
  sealed interface Step permits Assign, Call, Echo, Jq {
    String source();

    List<String> expected();
  }

  record Assign(String source, String name, String value, List<String> expected) implements Step {}

  /** Prints its output, or keeps it in {@code into} when that is not null. */
  record Call(String source, String method, List<String> messages, boolean heredocExpands,
      boolean emitDefaults, double maxTimeSeconds, String into, List<String> expected) implements Step {
    /** The messages with the shell's variables put in (a here-document without quotes). */
    List<String> messages(Map<String, String> variables) {
      return heredocExpands ? messages.stream().map(m -> expand(m, variables)).toList() : messages;
    }
  }

  record Echo(String source, String name, List<String> expected) implements Step {}

  record Jq(String source, String name, String from, String field, List<String> expected) implements Step {}

  private GrpcurlExamples() {}

  /** The grpcurl calls of the block, in order. */
  static List<Call> in(String readme) {
    return steps(readme).stream().filter(s -> s instanceof Call).map(s -> (Call) s).toList();
  }

  /** Every step of the block, in order. */
  static List<Step> steps(String readme) {
    List<String> lines = block(readme);
    List<Step> steps = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank() || line.startsWith("#")) {
        continue; // comments before a step; output lines are taken by the step they follow
      }
      StringBuilder source = new StringBuilder(line);
      // A command goes on over the next lines while a single-quoted argument is open.
      while (count(source, '\'') % 2 == 1 && i + 1 < lines.size()) {
        source.append('\n').append(lines.get(++i));
      }
      String command = source.toString();
      List<String> heredoc = new ArrayList<>();
      boolean expands = false;
      if (command.endsWith("<<EOF") || command.endsWith("<<'EOF'")) {
        expands = command.endsWith("<<EOF");
        while (++i < lines.size() && !lines.get(i).equals("EOF")) {
          heredoc.add(lines.get(i));
          source.append('\n').append(lines.get(i));
        }
        source.append("\nEOF");
      }
      List<String> expected = new ArrayList<>();
      while (i + 1 < lines.size() && (lines.get(i + 1).startsWith("# ") || lines.get(i + 1).equals("#"))
          && !isComment(lines, i + 1)) {
        expected.add(lines.get(++i).length() > 1 ? lines.get(i).substring(2) : "");
      }
      steps.add(step(source.toString(), command, heredoc, expands, expected));
    }
    return steps;
  }

  /** An output line follows its step directly; a comment starts after a blank line. */
  private static boolean isComment(List<String> lines, int i) {
    return i == 0 || lines.get(i - 1).isBlank();
  }

  private static Step step(String source, String command, List<String> heredoc, boolean expands,
      List<String> expected) {
    Matcher m;
    if ((m = ASSIGN_CALL.matcher(command)).matches()) {
      if (!expected.isEmpty()) {
        throw new IllegalArgumentException("an assignment prints nothing: " + source);
      }
      return call(source, m.group(2), heredoc, expands, m.group(1), expected);
    }
    if ((m = ASSIGN_JQ.matcher(command)).matches()) {
      return new Jq(source, m.group(1), m.group(2), m.group(3), expected);
    }
    if ((m = ECHO.matcher(command)).matches()) {
      return new Echo(source, m.group(1), expected);
    }
    if ((m = ASSIGN_LITERAL.matcher(command)).matches()) {
      return new Assign(source, m.group(1), m.group(2), expected);
    }
    if (command.startsWith("grpcurl ")) {
      return call(source, command, heredoc, expands, null, expected);
    }
    throw new IllegalArgumentException("a line this test cannot run (see GrpcurlExamples): " + source);
  }

  private static Call call(String source, String command, List<String> heredoc, boolean expands,
      String into, List<String> expected) {
    Matcher method = METHOD.matcher(command);
    if (!method.find()) {
      throw new IllegalArgumentException("grpcurl command without a synod.v1.Synod method: " + source);
    }
    List<String> words = words(command.substring(0, method.start()));
    boolean emitDefaults = false;
    double maxTime = 0;
    List<String> messages = new ArrayList<>();
    for (int w = 1; w < words.size(); w++) {
      String word = words.get(w);
      switch (word) {
        case "-plaintext" -> { }
        case "-emit-defaults" -> emitDefaults = true;
        case "-max-time" -> maxTime = Double.parseDouble(words.get(++w));
        case "-d" -> {
          String data = words.get(++w);
          if (data.equals("@")) {
            if (heredoc.isEmpty()) {
              throw new IllegalArgumentException("-d @ without a here-document: " + source);
            }
            messages.addAll(heredoc);
          } else {
            messages.add(data);
          }
        }
        case "$S" -> { }
        default -> throw new IllegalArgumentException("a grpcurl flag this test does not know: " + word);
      }
    }
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("grpcurl command without -d: " + source);
    }
    return new Call(source, method.group(1), messages, expands, emitDefaults, maxTime, into, expected);
  }

  /** Shell words: spaces separate, single quotes keep everything (newlines too) as is. */
  private static List<String> words(String text) {
    List<String> words = new ArrayList<>();
    StringBuilder word = null;
    boolean quoted = false;
    for (char c : text.toCharArray()) {
      if (c == '\'') {
        quoted = !quoted;
        word = word == null ? new StringBuilder() : word;
      } else if (!quoted && Character.isWhitespace(c)) {
        if (word != null) {
          words.add(word.toString());
          word = null;
        }
      } else {
        word = word == null ? new StringBuilder() : word;
        word.append(c);
      }
    }
    if (word != null) {
      words.add(word.toString());
    }
    return words;
  }

  /** {@code $NAME} and {@code ${NAME}} replaced by their values (unknown ones stay). */
  static String expand(String text, Map<String, String> variables) {
    Matcher m = VARIABLE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String name = m.group(1) != null ? m.group(1) : m.group(2);
      m.appendReplacement(out, Matcher.quoteReplacement(variables.getOrDefault(name, m.group())));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** The lines of the fenced code block that follows the heading. */
  private static List<String> block(String readme) {
    int heading = readme.indexOf(HEADING);
    if (heading < 0) {
      throw new IllegalArgumentException("README has no \"" + HEADING + "\" section");
    }
    int open = readme.indexOf("```sh", heading);
    int start = readme.indexOf('\n', open) + 1;
    int end = readme.indexOf("\n```", start);
    if (open < 0 || end < 0) {
      throw new IllegalArgumentException("no ```sh block after \"" + HEADING + "\"");
    }
    return readme.substring(start, end).lines().toList();
  }

  private static int count(CharSequence text, char c) {
    return (int) text.chars().filter(x -> x == c).count();
  }
}
