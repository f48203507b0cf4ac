package dev.synod.server.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.AdminGrpc;
import dev.synod.api.v1.BackupChunk;
import dev.synod.api.v1.BackupRequest;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.GetDataResponse;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.server.storage.BackupFormat;
import dev.synod.txn.v1.NodeRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backup and restore across processes: a backup taken from a follower of a running 3-member
 * cluster while a client writes holds every write acknowledged before it was asked for (it
 * syncs first); a new 3-member cluster started from it with --restore holds every node with the
 * same data and stat, takes new writes after it, and is a cluster of its own (a new id).
 */
class BackupRestoreTest {
  @TempDir Path dir;

  @Test
  void aBackupTakenUnderWritesRestoresIntoANewClusterNodeForNodeAndStatForStat() throws Exception {
    Path file = dir.resolve("cluster.backup");
    List<String> ackedBeforeBackup;
    Files.createDirectories(dir.resolve("source"));
    try (ProcessCluster source = new ProcessCluster(dir.resolve("source"), 3)) {
      int leader = source.awaitLeader(source.all());
      source.stub(leader).create(CreateRequest.newBuilder().setPath("/app").setKind(NodeKind.PERSISTENT).build());
      ConcurrentLinkedQueue<String> acked = new ConcurrentLinkedQueue<>();
      AtomicBoolean stop = new AtomicBoolean();
      Thread writer = new Thread(() -> {
        for (int i = 0; !stop.get() && i < 20_000; i++) {
          String path = "/app/n-" + i;
          try {
            source.stub(leader).create(CreateRequest.newBuilder().setPath(path)
                .setData(ByteString.copyFromUtf8("value " + i)).setKind(NodeKind.PERSISTENT).build());
            acked.add(path);
            if (i % 3 == 0) {
              source.stub(leader).setData(SetDataRequest.newBuilder().setPath("/app")
                  .setData(ByteString.copyFromUtf8("last " + i)).setVersion(-1).build());
            }
          } catch (RuntimeException e) {
            return; // the cluster is being shut down
          }
        }
      }, "writer");
      writer.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (acked.size() < 200 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertTrue(acked.size() >= 200, "the writer made progress: " + acked.size());
      ackedBeforeBackup = List.copyOf(acked);
      int follower = leader % 3 + 1;
      Iterator<BackupChunk> chunks = AdminGrpc.newBlockingStub(source.channel(follower))
          .withDeadlineAfter(60, TimeUnit.SECONDS).backup(BackupRequest.getDefaultInstance());
      BackupFormat.writeFile(file, chunks);
      stop.set(true);
      writer.join(30_000);
    }

    BackupFormat.Contents taken = BackupFormat.readFile(file);
    Map<String, NodeRecord> nodes = taken.snapshot().nodes();
    for (String path : ackedBeforeBackup) {
      assertTrue(nodes.containsKey(path), path + " was acknowledged before the backup was asked for");
    }

    Files.createDirectories(dir.resolve("restored"));
    try (ProcessCluster restored = new ProcessCluster(dir.resolve("restored"), 3, "--restore", file.toString())) {
      int leader = restored.awaitLeader(restored.all());
      for (int member : restored.all()) {
        for (Map.Entry<String, NodeRecord> e : nodes.entrySet()) {
          GetDataResponse r = restored.stub(member).getData(GetDataRequest.newBuilder().setPath(e.getKey()).build());
          assertEquals(e.getValue().getData(), r.getData(), "data of " + e.getKey() + " on member " + member);
          assertEquals(e.getValue().getStat(), r.getStat(), "stat of " + e.getKey() + " on member " + member);
        }
      }
      var after = restored.stub(leader).create(CreateRequest.newBuilder().setPath("/after-restore")
          .setKind(NodeKind.PERSISTENT).build());
      assertFalse(after.getPath().isEmpty());
      assertTrue(restored.stub(leader).getData(GetDataRequest.newBuilder().setPath("/after-restore").build())
          .getStat().getCzxid() > taken.snapshot().zxid(), "zxids go on after the backup's");
      String identity = Files.readString(dir.resolve("restored").resolve("s1").resolve("CLUSTER"));
      assertFalse(identity.contains("cluster-id=unknown"), identity);
      assertNotEquals(-1, identity.indexOf("cluster-id="));
      assertFalse(identity.contains(HexFormat.of().toHexDigits(taken.header().getClusterId())),
          "the restored cluster has an id of its own: " + identity);
    }
  }
}
