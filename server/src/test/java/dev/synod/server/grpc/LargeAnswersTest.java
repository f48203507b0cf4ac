package dev.synod.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.GetChildrenRequest;
import dev.synod.api.v1.GetChildrenResponse;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.Op;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.server.StreamClient;
import dev.synod.server.TestServer;
import io.grpc.Status;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No answer exceeds the 4 MiB a gRPC client accepts: GetChildren pages end by bytes as well as by
 * count (1,250 children with 4 KB names are 5 MB of names), and any other answer that would not
 * fit is a clear RESPONSE_TOO_LARGE error, never a stream the client would reconnect and re-send
 * into. Over a real socket, where the client's limit applies.
 */
class LargeAnswersTest {
  static final int CHILDREN = 1_250;
  static final int NAME_CHARS = 4_000;

  @TempDir Path dir;
  TestServer server;
  SynodGrpc.SynodBlockingStub stub;

  @BeforeEach
  void start() throws Exception {
    server = TestServer.overLoopback(dir, "data-bytes-max", "5m", "request-bytes-max", "8m",
        "batch-bytes-max", "8m");
    stub = server.blocking();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private static String name(int i) {
    String n = String.format("%05d-", i);
    return n + "x".repeat(NAME_CHARS - n.length());
  }

  private void createBigChildren() {
    stub.create(CreateRequest.newBuilder().setPath("/big").build());
    for (int from = 0; from < CHILDREN; from += 200) {
      MultiRequest.Builder multi = MultiRequest.newBuilder();
      for (int i = from; i < Math.min(CHILDREN, from + 200); i++) {
        multi.addOps(Op.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/big/" + name(i))));
      }
      stub.multi(multi.build());
    }
  }

  @Test
  void childrenPagesStayUnderTheMessageLimitOnUnaryCallsAndTheStream() throws Exception {
    createBigChildren();
    List<String> unary = new ArrayList<>();
    String cursor = "";
    int pages = 0;
    do {
      GetChildrenResponse page = stub.getChildren(GetChildrenRequest.newBuilder().setPath("/big").setCursor(cursor).build());
      assertTrue(page.getSerializedSize() <= 1 << 21, "page of " + page.getSerializedSize() + " bytes");
      assertTrue(page.getChildrenCount() > 0);
      unary.addAll(page.getChildrenList());
      cursor = page.getNextCursor();
      pages++;
    } while (!cursor.isEmpty());
    assertEquals(CHILDREN, unary.size());
    assertEquals(name(0), unary.get(0));
    assertEquals(name(CHILDREN - 1), unary.get(CHILDREN - 1));
    assertTrue(pages >= 5, pages + " pages");

    StreamClient c = StreamClient.open(server.channel(), 10_000);
    List<String> streamed = new ArrayList<>();
    cursor = "";
    do {
      Response r = c.call(Request.newBuilder().setGetChildren(
          GetChildrenRequest.newBuilder().setPath("/big").setCursor(cursor)));
      assertTrue(!r.hasError(), r.getError().toString());
      streamed.addAll(r.getGetChildren().getChildrenList());
      cursor = r.getGetChildren().getNextCursor();
    } while (!cursor.isEmpty());
    assertEquals(unary, streamed);
    assertTrue(!c.ended(), "the stream is still open");
  }

  @Test
  void anAnswerOverTheLimitIsAClearErrorNotABrokenStream() throws Exception {
    ByteString big = ByteString.copyFrom(new byte[(4 << 20) + 100]);
    stub.create(CreateRequest.newBuilder().setPath("/huge").build());
    stub.setData(SetDataRequest.newBuilder().setPath("/huge").setData(big).build());

    BadInputTest.assertReason(ErrorReason.RESPONSE_TOO_LARGE, Status.Code.RESOURCE_EXHAUSTED,
        () -> stub.getData(GetDataRequest.newBuilder().setPath("/huge").build()));

    StreamClient c = StreamClient.open(server.channel(), 10_000);
    Response r = c.call(Request.newBuilder().setGetData(GetDataRequest.newBuilder().setPath("/huge")));
    assertEquals(ErrorReason.RESPONSE_TOO_LARGE, r.getError().getReason(), r.toString());
    assertTrue(r.getError().getMessage().contains("would be"), r.getError().getMessage());
    // The stream goes on.
    Response next = c.call(Request.newBuilder().setGetChildren(GetChildrenRequest.newBuilder().setPath("/")));
    assertTrue(next.getGetChildren().getChildrenList().contains("huge"), next.toString());
    assertTrue(!c.ended());
  }
}
