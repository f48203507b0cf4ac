package dev.synod.tools.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;

/**
 * Tab completion in the shell: command names for the first word, node paths for a later word that
 * starts with "/" (the children of the path typed so far, read from the server).
 */
final class ShellCompleter implements Completer {
  private final List<String> commands;
  private final Function<String, List<String>> children;

  /**
   * @param commands the names the first word completes to
   * @param children the child names of a path; may throw (then nothing is offered)
   */
  ShellCompleter(List<String> commands, Function<String, List<String>> children) {
    this.commands = List.copyOf(commands);
    this.children = children;
  }

  @Override
  public void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
    if (line.wordIndex() == 0) {
      for (String c : commands) {
        candidates.add(new Candidate(c, c, null, null, null, null, true));
      }
      return;
    }
    String word = line.word().substring(0, Math.min(line.wordCursor(), line.word().length()));
    if (word.isEmpty() || word.startsWith("/")) {
      for (String path : paths(word)) {
        // Not "complete": no space after it, so "/" and another Tab go one level deeper.
        candidates.add(new Candidate(path, path, null, null, null, null, false));
      }
    }
  }

  /** The paths that complete {@code typed}: children of its parent whose names start with the rest. */
  List<String> paths(String typed) {
    if (typed.isEmpty()) {
      return List.of("/");
    }
    int slash = typed.lastIndexOf('/');
    String parent = slash == 0 ? "/" : typed.substring(0, slash);
    String prefix = typed.substring(slash + 1);
    List<String> names;
    try {
      names = children.apply(parent);
    } catch (RuntimeException e) {
      return List.of(); // no such parent, or the server is away: offer nothing rather than fail
    }
    List<String> out = new ArrayList<>();
    for (String name : names) {
      if (name.startsWith(prefix)) {
        out.add(Render.child(parent, name));
      }
    }
    return out;
  }
}
