package dev.synod.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The build rule that keeps the consensus module deterministic (after ZooKeeper's
 * checkstyle-strict bans): no threads, clocks, I/O, ambient randomness, logging, or iteration
 * over hash order anywhere under src/main. A violation names the file, the line and the rule.
 */
class DeterminismRuleTest {
  private record Rule(Pattern pattern, String why) {}

  private static final List<Rule> RULES = List.of(
      rule("\\bThread\\b|\\bRunnable\\b|Executor|ForkJoin|CompletableFuture|parallelStream|\\.parallel\\(",
          "threads: the replica is driven by one caller"),
      rule("\\bsynchronized\\b|\\bvolatile\\b|java\\.util\\.concurrent", "concurrency primitives"),
      rule("java\\.io\\.|java\\.nio\\.file|java\\.nio\\.channels|java\\.net\\.",
          "I/O: the driver persists and sends"),
      rule("System\\.currentTimeMillis|nanoTime|java\\.time\\b|\\bnew Date\\(|\\bTimer\\b",
          "clocks: time arrives as tick()"),
      rule("Math\\.random|ThreadLocalRandom|SecureRandom|new Random\\(\\s*\\)|UUID\\.randomUUID|Collections\\.shuffle",
          "ambient randomness: use the injected RandomSource"),
      rule("\\bHashMap\\b|\\bHashSet\\b|\\bHashtable\\b|IdentityHashMap|\\bSet\\.of\\(|\\bMap\\.of\\(|identityHashCode",
          "hash-ordered iteration: use TreeMap, arrays or lists"),
      rule("System\\.(out|err)|printStackTrace|java\\.util\\.logging|org\\.slf4j|log4j",
          "logging: outputs go through Ready"),
      rule("System\\.getenv|System\\.getProperty|System\\.exit|Runtime\\.getRuntime",
          "the environment: everything comes in through the constructor"));

  /** `new Random(seed)` is allowed only where the one injected source is made. */
  private static final Rule SEEDED_RANDOM = rule("new Random\\(", "randomness outside RandomSource");
  private static final String SEEDED_RANDOM_HOME = "RandomSource.java";

  private static Rule rule(String regex, String why) {
    return new Rule(Pattern.compile(regex), why);
  }

  @Test
  void mainSourcesUseNoBannedApi() throws IOException {
    Path main = Path.of("src/main/java");
    assertTrue(Files.isDirectory(main), "run from the consensus module directory");
    List<String> violations = new ArrayList<>();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(main)) {
      files = walk.filter(p -> p.toString().endsWith(".java")).sorted().toList();
    }
    assertFalse(files.isEmpty());
    for (Path file : files) {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      violations.addAll(check(file.toString(), lines));
    }
    assertEquals(List.of(), violations, "banned APIs in consensus/src/main");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "new Thread(() -> {}).start();",
      "private final java.util.concurrent.ExecutorService e;",
      "synchronized (this) {",
      "import java.io.File;",
      "import java.nio.file.Path;",
      "import java.net.Socket;",
      "long t = System.currentTimeMillis();",
      "long t = System.nanoTime();",
      "import java.time.Instant;",
      "double d = Math.random();",
      "int r = ThreadLocalRandom.current().nextInt();",
      "SecureRandom s = new SecureRandom();",
      "Random r = new Random();",
      "Random r = new Random(42);",
      "Map<Long, Entry> m = new HashMap<>();",
      "Set<Integer> s = new HashSet<>();",
      "for (int x : Set.of(1, 2)) {",
      "System.out.println(x);",
  })
  void theRuleRejectsEachBannedApi(String line) {
    assertFalse(check("Sample.java", List.of(line)).isEmpty(), line);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "import java.nio.ByteBuffer;",
      "TreeMap<Long, Entry> log = new TreeMap<>();",
      "// a comment may mention Thread and HashMap",
      " * javadoc may mention System.currentTimeMillis",
      "String s = \"a string may say new Thread\";",
      "LinkedHashMap<Long, Long> ordered;",
  })
  void theRuleAllowsDeterministicCode(String line) {
    assertEquals(List.of(), check("Sample.java", List.of(line)), line);
  }

  @Test
  void seededRandomIsAllowedOnlyInRandomSource() {
    assertEquals(List.of(), check("x/" + SEEDED_RANDOM_HOME, List.of("Random r = new Random(seed);")));
    assertFalse(check("x/Other.java", List.of("Random r = new Random(seed);")).isEmpty());
  }

  /** Violations in one file: code only (comments and string literals are blanked first). */
  private static List<String> check(String file, List<String> lines) {
    List<String> violations = new ArrayList<>();
    boolean inBlockComment = false;
    for (int i = 0; i < lines.size(); i++) {
      StringBuilder code = new StringBuilder();
      String line = lines.get(i);
      boolean inString = false;
      for (int c = 0; c < line.length(); c++) {
        char ch = line.charAt(c);
        char next = c + 1 < line.length() ? line.charAt(c + 1) : 0;
        if (inBlockComment) {
          if (ch == '*' && next == '/') {
            inBlockComment = false;
            c++;
          }
        } else if (inString) {
          if (ch == '\\') {
            c++;
          } else if (ch == '"') {
            inString = false;
          }
        } else if (ch == '/' && next == '/') {
          break;
        } else if (ch == '/' && next == '*') {
          inBlockComment = true;
          c++;
        } else if (ch == '"') {
          inString = true;
          code.append("\"\"");
        } else {
          code.append(ch);
        }
      }
      String stripped = code.toString();
      if (stripped.trim().startsWith("*")) {
        continue; // a javadoc line whose opening we did not see (e.g. a test sample)
      }
      for (Rule r : RULES) {
        if (r.pattern().matcher(stripped).find()) {
          violations.add(file + ":" + (i + 1) + ": " + r.why() + ": " + line.trim());
        }
      }
      if (!file.endsWith(SEEDED_RANDOM_HOME) && SEEDED_RANDOM.pattern().matcher(stripped).find()) {
        violations.add(file + ":" + (i + 1) + ": " + SEEDED_RANDOM.why() + ": " + line.trim());
      }
    }
    return violations;
  }
}
