package dev.synod.server.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.synod.api.v1.NodeKind;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A node's name kept as Latin-1 bytes (or a String when a char is above 255) compares, joins and
 * reads back exactly as the String it stands for.
 */
class NodeNamesTest {
  /**
   * Names (never holding '/'): ASCII (with chars below and above '/'), Latin-1, other BMP chars and supplementary ones (a
   * surrogate pair sorts below U+E000 and U+FFFF in String order, above them in code points).
   */
  static final List<String> NAMES = List.of("", "a", "ab", "a-b", "a b", "a!", "a.c", "a0",
      "z", "~", "\u007f", "\u0080", "\u00a0", "é", "eé", "ée", "é-", "ÿ", "aÿ", "aÿb", "Ā", "aĀ",
      "名", "名字", "a名", "ﬁ", "\ue000", "\uffff", "😀", "a😀", "😀b", "\ud83d", "ÿ😀");

  @Test
  void latin1NamesAreKeptAsBytesAndOthersAsTheirString() {
    assertArrayEquals(new byte[] {'a', 'b'}, (byte[]) NodeNames.compact("ab"));
    assertArrayEquals(new byte[] {(byte) 0xe9}, (byte[]) NodeNames.compact("é"));
    assertArrayEquals(new byte[] {'a', (byte) 0xff}, (byte[]) NodeNames.compact("aÿ"));
    assertSame(NodeNames.EMPTY, NodeNames.compact(""));
    String cjk = "a名";
    assertSame(cjk, NodeNames.compact(cjk));
    String emoji = "😀";
    assertSame(emoji, NodeNames.compact(emoji));
    byte[] bytes = {'x'};
    assertSame(bytes, NodeNames.compact(bytes), "already compact");
    assertThrows(IllegalArgumentException.class, () -> NodeNames.compact(42));
    assertThrows(IllegalArgumentException.class, () -> NodeNames.compact(null));
  }

  @Test
  void everyNameReadsBackAsItsString() {
    for (String name : NAMES) {
      Object compact = NodeNames.compact(name);
      assertEquals(name, NodeNames.toString(compact));
      assertEquals(name.length(), NodeNames.length(compact));
      for (int i = 0; i < name.length(); i++) {
        assertEquals(name.charAt(i), NodeNames.charAt(compact, i), name + " at " + i);
      }
    }
  }

  @Test
  void aNameFromUtf8IsItsBytesWhenAsciiAndDecodedOtherwise() {
    byte[] path = "/p/c123".getBytes(StandardCharsets.UTF_8);
    Object ascii = NodeNames.fromUtf8(path, 3, 4);
    assertArrayEquals(new byte[] {'c', '1', '2', '3'}, (byte[]) ascii);
    assertSame(NodeNames.EMPTY, NodeNames.fromUtf8(path, 1, 0));
    for (String name : NAMES) {
      if (name.contains("\ud83d") && !name.contains("😀")) {
        continue; // a lone surrogate has no UTF-8 form
      }
      byte[] utf8 = ("/q/" + name).getBytes(StandardCharsets.UTF_8);
      Object compact = NodeNames.fromUtf8(utf8, 3, utf8.length - 3);
      assertEquals(name, NodeNames.toString(compact));
      // Latin-1 names (é is two UTF-8 bytes, one Latin-1 byte) become bytes too.
      assertEquals(NodeNames.compact(name) instanceof byte[], compact instanceof byte[], name);
    }
    assertInstanceOf(byte[].class, NodeNames.fromUtf8("é".getBytes(StandardCharsets.UTF_8), 0, 2));
  }

  @Test
  void namesCompareInStringOrderWhateverTheirForm() {
    for (String a : NAMES) {
      Object x = NodeNames.compact(a);
      for (String b : NAMES) {
        int expected = Integer.signum(a.compareTo(b));
        Object y = NodeNames.compact(b);
        String pair = "'" + a + "' vs '" + b + "'";
        assertEquals(expected, Integer.signum(NodeNames.compare(x, y)), pair);
        assertEquals(expected, Integer.signum(NodeNames.compare(x, b)), pair + " (String probe)");
        assertEquals(expected, Integer.signum(NodeNames.compare(a, y)), pair + " (String probe)");
        String path = "/" + b + "/rest";
        assertEquals(expected,
            Integer.signum(NodeNames.compare(x, path, 1, 1 + b.length())), pair + " in a path");
        assertEquals(a.equals(b), NodeNames.equals(x, path, 1, 1 + b.length()), pair);
      }
    }
  }

  @Test
  void descendantsSortBeforeASiblingUnlessItContinuesTheNameBelowSlash() {
    for (String a : NAMES) {
      for (String b : NAMES) {
        if (a.compareTo(b) >= 0) {
          continue; // the sibling sorts after the waiting name
        }
        boolean expected = (a + "/").compareTo(b) < 0;
        assertEquals(expected, NodeNames.descendantsBefore(NodeNames.compact(a),
            NodeNames.compact(b)), "'" + a + "/...' vs '" + b + "'");
      }
    }
  }

  @Test
  void aPathJoinsTheParentAndTheName() {
    for (String name : NAMES) {
      assertEquals("/" + name, NodeNames.join("/", NodeNames.compact(name)));
      assertEquals("/p/é/" + name, NodeNames.join("/p/é", NodeNames.compact(name)));
    }
  }

  private static Node node(String name) {
    return new Node(name, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, NodeKind.PERSISTENT, new byte[0],
        List.of(), null);
  }

  /** Children, in both forms (array, and map past the limit), with every kind of name mixed. */
  @Test
  void childrenOfEveryFormAreSortedFoundAndRemovedByName() {
    for (int copies : new int[] {1, Children.ARRAY_MAX / NAMES.size() + 2}) {
      List<String> names = new ArrayList<>();
      for (int i = 0; i < copies; i++) {
        for (String name : NAMES) {
          names.add(copies == 1 ? name : name + i);
        }
      }
      assertEquals(names.size(), new HashSet<>(names).size(), "distinct names");
      Collections.shuffle(names, new Random(copies));
      Children children = new Children();
      for (String name : names) {
        children.put(node(name));
      }
      List<String> sorted = new ArrayList<>(names);
      Collections.sort(sorted);
      assertEquals(sorted, namesOf(children.iteratorAfter(null)));
      for (String name : names) {
        String path = "/x/" + name + "/y";
        Node found = children.get(path, 3, 3 + name.length());
        assertEquals(name, found == null ? null : found.name(), "lookup of " + name);
        assertSame(found, children.sameNameAs(node(name)));
      }
      String after = sorted.get(sorted.size() / 3);
      assertEquals(sorted.subList(sorted.size() / 3 + 1, sorted.size()),
          namesOf(children.iteratorAfter(after)));
      List<String> removed = names.subList(0, names.size() / 2);
      for (String name : removed) {
        children.remove(node(name));
      }
      List<String> left = new ArrayList<>(names.subList(names.size() / 2, names.size()));
      Collections.sort(left);
      assertEquals(left, namesOf(children.iteratorAfter(null)));
      for (String name : removed) {
        assertEquals(null, children.get(name), name + " was removed");
      }
    }
  }

  @Test
  void appendTakesOnlyANameThatSortsAfterEveryChild() {
    List<String> sorted = new ArrayList<>(NAMES);
    Collections.sort(sorted);
    Children children = new Children();
    for (String name : sorted) {
      assertEquals(true, children.append(node(name)), name);
    }
    for (String name : sorted) {
      assertEquals(false, children.append(node(name)), name + " again");
    }
    assertEquals(sorted, namesOf(children.iteratorAfter(null)));
  }

  private static List<String> namesOf(Iterator<Node> nodes) {
    List<String> out = new ArrayList<>();
    nodes.forEachRemaining(n -> out.add(n.name()));
    return out;
  }
}
