package dev.synod.server.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.server.Eventually;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Durability with real processes: a write acknowledged to a client survives SIGKILL of the server,
 * whenever it comes, including between the steps of writing a snapshot.
 */
class CrashRecoveryTest {
  @TempDir Path dir;

  static ManagedChannel connect(int port) {
    return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  static ByteString valueOf(String path) {
    return ByteString.copyFromUtf8("value-of:" + path);
  }

  /** Checks every acknowledged path is present with its value after a restart. */
  static void assertAllPresent(Path dataDir, Map<String, Boolean> acked) throws Exception {
    try (ServerProcess server = ServerProcess.start(dataDir)) {
      int port = server.awaitPort();
      ManagedChannel channel = connect(port);
      try {
        var stub = SynodGrpc.newBlockingStub(channel);
        for (String path : acked.keySet()) {
          try {
            var got = stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                .getData(GetDataRequest.newBuilder().setPath(path).build());
            assertEquals(valueOf(path), got.getData(), path);
          } catch (StatusRuntimeException e) {
            throw new AssertionError("acknowledged write lost: " + path + " (" + e.getStatus() + ")\n" + server.log());
          }
        }
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void acknowledgedWritesSurviveRepeatedSigkillUnderLoad() throws Exception {
    Map<String, Boolean> acked = new ConcurrentHashMap<>();
    Path data = dir.resolve("data");
    for (int round = 0; round < 4; round++) {
      try (ServerProcess server = ServerProcess.start(data,
          "--snapshot-every-txns", "700", "--segment-bytes-max", "65536")) {
        int port = server.awaitPort();
        ManagedChannel channel = connect(port);
        var stub = SynodGrpc.newBlockingStub(channel);
        if (round == 0) {
          stub.create(CreateRequest.newBuilder().setPath("/crash").build());
        }
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> writers = new ArrayList<>();
        final int r = round;
        for (int t = 0; t < 8; t++) {
          final int thread = t;
          Thread w = new Thread(() -> {
            for (int i = 0; !stop.get() && i < 100_000; i++) {
              String path = "/crash/r" + r + "-t" + thread + "-" + i;
              try {
                stub.withDeadlineAfter(5, TimeUnit.SECONDS).create(
                    CreateRequest.newBuilder().setPath(path).setData(valueOf(path)).build());
                acked.put(path, true);
              } catch (StatusRuntimeException e) {
                return; // the server died under us: this write was never acknowledged
              }
            }
          });
          w.start();
          writers.add(w);
        }
        Thread.sleep(700 + 150L * round); // the writers run this long before the kill: the scenario, not a wait
        server.kill();
        stop.set(true);
        for (Thread w : writers) {
          w.join(10_000);
        }
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    assertTrue(acked.size() > 200, "the load made progress: " + acked.size());
    assertAllPresent(data, acked);
  }

  @ParameterizedTest
  @ValueSource(strings = {"snapshot.tmp-written", "snapshot.tmp-synced", "snapshot.renamed",
      "snapshot.dir-synced", "snapshot.pruned", "snapshot.log-truncated"})
  void killBetweenSnapshotSteps(String crashPoint) throws Exception {
    Map<String, Boolean> acked = new ConcurrentHashMap<>();
    Path data = dir.resolve("data");
    // First a clean run that leaves one snapshot behind, so the crash run has an older snapshot
    // to prune and a log to truncate.
    write(data, acked, 0, "--snapshot-every-txns", "150");
    try (ServerProcess server = ServerProcess.start(data, "--snapshot-every-txns", "150",
        "--test-crash-point", crashPoint)) {
      int port = server.awaitPort();
      ManagedChannel channel = connect(port);
      var stub = SynodGrpc.newBlockingStub(channel);
      for (int i = 0; i < 5_000; i++) {
        String path = "/p-" + crashPoint + "-" + i;
        try {
          stub.withDeadlineAfter(5, TimeUnit.SECONDS)
              .create(CreateRequest.newBuilder().setPath(path).setData(valueOf(path)).build());
          acked.put(path, true);
        } catch (StatusRuntimeException e) {
          break;
        }
      }
      assertEquals(137, server.awaitExit(), "halted at " + crashPoint + "\n" + server.log());
      assertTrue(server.log().contains("halting at " + crashPoint));
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    assertAllPresent(data, acked);
  }

  private static void write(Path data, Map<String, Boolean> acked, int round, String... flags) throws Exception {
    try (ServerProcess server = ServerProcess.start(data, flags)) {
      ManagedChannel channel = connect(server.awaitPort());
      var stub = SynodGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      for (int i = 0; i < 400; i++) {
        String path = "/w" + round + "-" + i;
        stub.create(CreateRequest.newBuilder().setPath(path).setData(valueOf(path)).build());
        acked.put(path, true);
      }
      if (List.of(flags).contains("--snapshot-every-txns")) {
        // Snapshots are written in the background: wait for one before the process is killed
        // (on a loaded machine the kill could otherwise come first).
        try {
          Eventually.eventually(Duration.ofSeconds(30), "a snapshot was written", () -> {
            try {
              return hasSnapshot(data);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
        } catch (AssertionError notYet) {
          throw new AssertionError(notYet.getMessage() + "\n" + server.log(), notYet);
        }
      }
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static boolean hasSnapshot(Path data) throws IOException {
    try (Stream<Path> snapshots = Files.list(data.resolve("snapshots"))) {
      return snapshots.anyMatch(p -> p.getFileName().toString().endsWith(".db"));
    }
  }

  @Test
  void corruptionInTheMiddleOfTheLogRefusesToStart() throws Exception {
    Map<String, Boolean> acked = new ConcurrentHashMap<>();
    Path data = dir.resolve("data");
    write(data, acked, 0);
    Path segment;
    try (Stream<Path> files = Files.list(data.resolve("log"))) {
      segment = files.filter(p -> p.getFileName().toString().endsWith(".seg")).sorted().findFirst().orElseThrow();
    }
    // A third into the records (a segment is preallocated: the zeros after them are not data).
    flipByte(segment, dataLength(segment) / 3);
    try (ServerProcess server = ServerProcess.start(data)) {
      int code = server.awaitExit();
      assertEquals(3, code, server.log());
      assertTrue(server.log().contains("refusing to start rather than serve wrong data"), server.log());
    }
  }

  /** Where a preallocated segment's records end: after its last byte that is not zero. */
  static long dataLength(Path segment) throws IOException {
    byte[] bytes = Files.readAllBytes(segment);
    int end = bytes.length;
    while (end > 0 && bytes[end - 1] == 0) {
      end--;
    }
    return end;
  }

  static void flipByte(Path file, long offset) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, offset);
      b.flip();
      byte v = b.get(0);
      b.put(0, (byte) (v ^ 0x5A));
      ch.write(b, offset);
      ch.force(true);
    }
  }
}
