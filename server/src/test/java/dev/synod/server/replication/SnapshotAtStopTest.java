package dev.synod.server.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.NodeKind;
import dev.synod.server.TestServer;
import dev.synod.server.storage.DurableStore;
import dev.synod.server.storage.FaultInjector;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A clean stop writes a snapshot of everything applied, so the next start loads it and has no
 * log to replay; what it holds is what was acknowledged.
 */
class SnapshotAtStopTest {
  @TempDir Path dir;

  @Test
  void aCleanStopLeavesASnapshotOfEverythingApplied() throws Exception {
    Path data = dir.resolve("data");
    long lastZxid;
    try (TestServer server = new TestServer(data)) {
      for (int i = 0; i < 50; i++) {
        server.blocking().create(CreateRequest.newBuilder().setPath("/n" + i)
            .setData(ByteString.copyFromUtf8("v" + i)).setKind(NodeKind.PERSISTENT).build());
      }
      lastZxid = server.node.state().lastZxid();
    }
    try (DurableStore store = DurableStore.open(data, 1 << 20, FaultInjector.NONE)) {
      assertEquals(lastZxid, store.snapshotZxid(), "the snapshot holds every applied write");
      assertTrue(store.loadSnapshot().orElseThrow().nodes().containsKey("/n49"));
    }
    try (TestServer again = new TestServer(data)) {
      assertEquals("v49", again.blocking().getData(GetDataRequest.newBuilder().setPath("/n49").build())
          .getData().toStringUtf8());
      assertTrue(again.node.state().lastZxid() >= lastZxid);
    }
  }
}
