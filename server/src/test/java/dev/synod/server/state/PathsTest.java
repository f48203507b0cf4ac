package dev.synod.server.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.ErrorReason;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class PathsTest {
  private static final int MAX = 4096;

  static Stream<Arguments> invalidPaths() {
    return Stream.of(
        Arguments.of("", "empty"),
        Arguments.of("a", "start with '/'"),
        Arguments.of("a/b", "start with '/'"),
        Arguments.of("/a/", "end with '/'"),
        Arguments.of("/a/b/", "end with '/'"),
        Arguments.of("//", "empty segment"),
        Arguments.of("/a//b", "empty segment"),
        Arguments.of("/.", "relative segment '.'"),
        Arguments.of("/a/./b", "relative segment '.'"),
        Arguments.of("/..", "relative segment '..'"),
        Arguments.of("/a/..", "relative segment '..'"),
        Arguments.of("/a\u0000b", "U+0000"),
        Arguments.of("/a\tb", "U+0009"),
        Arguments.of("/a\u001f", "U+001F"),
        Arguments.of("/a\u007f", "U+007F"),
        Arguments.of("/a\u0085", "U+0085"),
        Arguments.of("/a\u009f", "U+009F"),
        Arguments.of("/smile\ud83d\ude00", "U+D83D"),   // surrogates are ZooKeeper-forbidden
        Arguments.of("/\ue000", "U+E000"),             // private use
        Arguments.of("/\uf8ff", "U+F8FF"),
        Arguments.of("/\ufff0", "U+FFF0"),
        Arguments.of("/\uffff", "U+FFFF"),
        Arguments.of("/" + "a".repeat(MAX), "4097 UTF-8 bytes"),
        Arguments.of("/" + "\u00e9".repeat(MAX / 2), "4097 UTF-8 bytes"),
        Arguments.of("/" + "\u65e5".repeat(1366), "4099 UTF-8 bytes"));
  }

  @ParameterizedTest
  @MethodSource("invalidPaths")
  void invalidPathsAreRefusedSayingWhy(String path, String why) {
    SynodException e = assertThrows(SynodException.class, () -> Paths.validate(path, MAX));
    assertEquals(ErrorReason.INVALID_PATH, e.reason());
    assertTrue(e.getMessage().contains(why), () -> "message '" + e.getMessage() + "' lacks " + why);
    assertEquals(path, e.path());
  }

  @ParameterizedTest
  @ValueSource(strings = {"/", "/a", "/a/b/c", "/a.b", "/.hidden", "/..a", "/a..", "/a-b_c~d",
      "/caf\u00e9", "/\u65e5\u672c\u8a9e/\u30ce\u30fc\u30c9", "/\u00a0nbsp", "/\ufb01ligature",
      "/with space", "/a:b@c"})
  void validPathsAreAccepted(String path) throws SynodException {
    Paths.validate(path, MAX);
    Paths.validateForCreate(path, false, MAX);
    Paths.validateForCreate(path, true, MAX);
  }

  @Test
  void lengthIsCountedInUtf8BytesUpToTheLimit() throws SynodException {
    Paths.validate("/" + "a".repeat(MAX - 1), MAX);
    Paths.validate("/" + "\u00e9".repeat((MAX - 2) / 2) + "a", MAX);
    Paths.validate("/abc", 4);
    assertThrows(SynodException.class, () -> Paths.validate("/abcd", 4));
  }

  @Test
  void aSequentialCreateCountsItsCounterAgainstTheLimit() throws SynodException {
    Paths.validateForCreate("/q/", true, 13); // "/q/" + 10 digits
    Paths.validateForCreate("/q/abcd", false, 13);
    SynodException e = assertThrows(SynodException.class,
        () -> Paths.validateForCreate("/q/abcd", true, 13));
    assertTrue(e.getMessage().contains("17 with the sequence number"), e.getMessage());
  }

  @Test
  void withoutALimitOnlySyntaxIsChecked() throws SynodException {
    Paths.validate("/" + "a".repeat(100_000));
    Paths.validateForCreate("/" + "a".repeat(100_000) + "/", true);
    assertThrows(SynodException.class, () -> Paths.validate("/a//b"));
    assertThrows(SynodException.class, () -> Paths.validateForCreate("/a/", false));
  }

  @Test
  void nullIsInvalid() {
    SynodException e = assertThrows(SynodException.class, () -> Paths.validate(null, MAX));
    assertEquals(ErrorReason.INVALID_PATH, e.reason());
  }

  @Test
  void onlyASequentialCreateMayEndWithSlash() throws SynodException {
    Paths.validateForCreate("/q/", true, MAX);
    Paths.validateForCreate("/", true, MAX);
    assertThrows(SynodException.class, () -> Paths.validateForCreate("/q/", false, MAX));
    assertThrows(SynodException.class, () -> Paths.validateForCreate("/q//", true, MAX));
    assertThrows(SynodException.class, () -> Paths.validateForCreate("/q/../", true, MAX));
  }

  @Test
  void helpers() {
    assertEquals("/", Paths.parent("/a"));
    assertEquals("/a", Paths.parent("/a/b"));
    assertEquals("/a/b", Paths.parent("/a/b/c"));
    assertThrows(IllegalArgumentException.class, () -> Paths.parent("/"));
    assertEquals("a", Paths.name("/a"));
    assertEquals("c", Paths.name("/a/b/c"));
    assertEquals("", Paths.name("/"));
    assertEquals("/a", Paths.join("/", "a"));
    assertEquals("/a/b", Paths.join("/a", "b"));

    assertTrue(Paths.isAncestor("/", "/a"));
    assertTrue(Paths.isAncestor("/a", "/a/b"));
    assertTrue(Paths.isAncestor("/a", "/a/b/c"));
    assertFalse(Paths.isAncestor("/a", "/a"));
    assertFalse(Paths.isAncestor("/", "/"));
    assertFalse(Paths.isAncestor("/a", "/ab"));
    assertFalse(Paths.isAncestor("/a/b", "/a"));
  }
}
