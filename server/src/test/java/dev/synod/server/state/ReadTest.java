package dev.synod.server.state;

import static dev.synod.server.state.Harness.assertError;
import static dev.synod.server.state.Harness.assertOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.GetChildrenResponse;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.StatusRequest;
import dev.synod.api.v1.SyncRequest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReadTest {
  private final Harness h = new Harness(new StateLimits(10, 4, 100, 1 << 20));

  private void createChildren(String parent, String... names) {
    h.create(parent);
    for (String name : names) {
      assertOk(h.create(parent + "/" + name));
    }
  }

  @Test
  void childrenAreSortedAndPagedWithACursor() {
    createChildren("/p", "e", "b", "a", "d", "c", "g", "f");
    GetChildrenResponse page1 = h.children("/p", 3, "").getGetChildren();
    assertEquals(List.of("a", "b", "c"), page1.getChildrenList());
    assertEquals("c", page1.getNextCursor());
    assertEquals(7, page1.getStat().getNumChildren(), "the stat counts every child");
    GetChildrenResponse page2 = h.children("/p", 3, page1.getNextCursor()).getGetChildren();
    assertEquals(List.of("d", "e", "f"), page2.getChildrenList());
    GetChildrenResponse page3 = h.children("/p", 3, page2.getNextCursor()).getGetChildren();
    assertEquals(List.of("g"), page3.getChildrenList());
    assertEquals("", page3.getNextCursor(), "nothing more");
  }

  @Test
  void anExactlyFullLastPageHasNoCursor() {
    createChildren("/p", "a", "b", "c", "d");
    GetChildrenResponse page = h.children("/p", 2, "b").getGetChildren();
    assertEquals(List.of("c", "d"), page.getChildrenList());
    assertEquals("", page.getNextCursor());
  }

  @Test
  void theCursorNeedNotBeAChildName() {
    createChildren("/p", "apple", "banana", "cherry");
    assertEquals(List.of("banana", "cherry"),
        h.children("/p", 0, "b").getGetChildren().getChildrenList());
    assertEquals(List.of(), h.children("/p", 0, "zzz").getGetChildren().getChildrenList());
  }

  @Test
  void limitZeroOrTooLargeMeansTheServersPageSize() {
    createChildren("/p", "a", "b", "c", "d", "e", "f");
    for (int limit : new int[] {0, 5, 1000, -1}) {
      GetChildrenResponse page = h.children("/p", limit, "").getGetChildren();
      assertEquals(List.of("a", "b", "c", "d"), page.getChildrenList(), "limit " + limit);
      assertEquals("d", page.getNextCursor());
    }
  }

  @Test
  void pagingCollectsEveryChildOnce() {
    h.create("/many");
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 23; i++) {
      String name = String.format("c%03d", (i * 7) % 23);
      h.create("/many/" + name);
      expected.add(name);
    }
    expected.sort(null);
    List<String> collected = new ArrayList<>();
    String cursor = "";
    do {
      GetChildrenResponse page = h.children("/many", 0, cursor).getGetChildren();
      collected.addAll(page.getChildrenList());
      cursor = page.getNextCursor();
    } while (!cursor.isEmpty());
    assertEquals(expected, collected);
  }

  @Test
  void readErrors() {
    assertError(ErrorReason.NO_NODE, "/nope", h.children("/nope", 0, ""));
    assertError(ErrorReason.NO_NODE, "/nope", h.getData(0, "/nope", false));
    assertError(ErrorReason.INVALID_PATH, h.getData(0, "nope", false));
    assertError(ErrorReason.INVALID_PATH, h.exists(0, "/a/", false));
    assertError(ErrorReason.INVALID_PATH, h.children("//", 0, ""));
    Response missing = h.exists(0, "/nope", false);
    assertOk(missing);
    assertFalse(missing.getExists().getExists());
    assertFalse(missing.getExists().hasStat());
  }

  @Test
  void aReadReflectsTheLastZxidAndEchoesTheRequestNumber() {
    h.create("/a", "x");
    h.noop();
    Response r = h.getData(0, "/a", false);
    assertEquals(h.sm.lastZxid(), r.getZxid());
    assertEquals(7, r.getRequestNo());
    assertEquals("x", r.getGetData().getData().toStringUtf8());
    assertTrue(r.getGetData().hasStat());
  }

  @Test
  void writesAndOtherRequestsAreNotReadsAndAreAnsweredSo() {
    for (Request.Builder request : List.of(
        Request.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/x")),
        Request.newBuilder().setMulti(MultiRequest.getDefaultInstance()),
        Request.newBuilder().setSync(SyncRequest.getDefaultInstance()),
        Request.newBuilder().setStatus(StatusRequest.getDefaultInstance()),
        Request.newBuilder())) {
      // A caller that routes one here by mistake gets an answer, not an exception or silence.
      Response r = h.read(0, request);
      assertError(ErrorReason.BAD_ARGUMENT, r);
      assertEquals(7, r.getRequestNo());
    }
    assertTrue(h.read(0, Request.newBuilder().setSync(SyncRequest.getDefaultInstance()))
        .getError().getMessage().contains("SYNC is not a read"));
    assertError(ErrorReason.NO_NODE, h.getData(0, "/x", false));
  }
}
