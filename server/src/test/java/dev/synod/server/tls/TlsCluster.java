package dev.synod.server.tls;

import dev.synod.server.Eventually;
import dev.synod.server.SynodNode;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Three members on loopback, started from flags as the process starts them: TLS on the client port
 * (certificates of a client-port CA, mutual when {@code clientCertificates} says so) and mutual TLS
 * between members (certificates of a separate peer CA). Closing it closes its channels and nodes.
 */
public final class TlsCluster implements AutoCloseable {
  public static final int SIZE = 3;

  public final Path dir;
  /** The CA of the client port: it signs the servers' certificates and, with mTLS, the clients'. */
  public final TestPki.Issued clientCa;
  public final Path clientCaFile;
  public final TestPki.Issued peerCa;
  public final Path peerCaFile;
  public final int[] peerPorts = new int[SIZE + 1];
  public final SynodNode[] nodes = new SynodNode[SIZE + 1];
  private final List<ManagedChannel> channels = new ArrayList<>();

  private TlsCluster(Path dir) throws Exception {
    this.dir = dir;
    this.clientCa = TestPki.ca("Synod client-port CA");
    this.clientCaFile = dir.resolve("ca.pem");
    TestPki.writeCerts(clientCaFile, clientCa.cert());
    this.peerCa = TestPki.ca("Synod peer CA");
    this.peerCaFile = dir.resolve("peer-ca.pem");
    TestPki.writeCerts(peerCaFile, peerCa.cert());
  }

  /**
   * Starts the three members ({@code clientCertificates}: the client port asks for certificates
   * of {@link #clientCa}, {@code --tls-client-ca}); {@code extraFlags} go to every member.
   */
  public static TlsCluster start(Path dir, boolean clientCertificates, String... extraFlags) throws Exception {
    TlsCluster cluster = new TlsCluster(dir);
    try {
      cluster.startMembers(clientCertificates, extraFlags);
    } catch (Exception | Error e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  private void startMembers(boolean clientCertificates, String... extraFlags) throws Exception {
    StringBuilder members = new StringBuilder();
    for (int i = 1; i <= SIZE; i++) {
      peerPorts[i] = TlsNodes.freePort();
      members.append(i == 1 ? "" : ",").append(i).append("=127.0.0.1:").append(peerPorts[i]);
    }
    for (int i = 1; i <= SIZE; i++) {
      TestPki.Files2 serving = TestPki.leaf(clientCa, "synod-" + i, "IP:127.0.0.1").write(dir, "server-" + i);
      TestPki.Files2 member = TestPki.leaf(peerCa, "member-" + i, "IP:127.0.0.1").write(dir, "member-" + i);
      List<String> flags = new ArrayList<>(List.of("--server-id", Integer.toString(i),
          "--members", members.toString(), "--initial-cluster-state", "new",
          "--tick-ms", "10", "--election-ticks-min", "10", "--election-ticks-max", "20",
          "--heartbeat-ticks", "2", "--write-timeout-ms", "3000",
          "--tls-cert", serving.cert().toString(), "--tls-key", serving.key().toString(),
          "--peer-tls-cert", member.cert().toString(), "--peer-tls-key", member.key().toString(),
          "--peer-tls-ca", peerCaFile.toString()));
      if (clientCertificates) {
        flags.addAll(List.of("--tls-client-ca", clientCaFile.toString()));
      }
      flags.addAll(List.of(extraFlags));
      nodes[i] = TlsNodes.start(dir.resolve("s" + i), flags.toArray(String[]::new));
    }
  }

  /** Waits until a member leads; returns its id. */
  public int awaitLeader() throws InterruptedException {
    return Eventually.eventually(Duration.ofSeconds(20), "a leader elected over mutual TLS", () -> {
      for (int i = 1; i <= SIZE; i++) {
        if (nodes[i].driver().isLeader()) {
          return i;
        }
      }
      return -1;
    }, leader -> leader > 0);
  }

  /** A TLS channel to member {@code id}'s client port, presenting {@code client} (null: none). */
  public ManagedChannel channel(int id, TestPki.Files2 client) throws java.io.IOException {
    return track(TlsNodes.tls(nodes[id].port(), clientCaFile, client));
  }

  /** Closes {@code channel} with the cluster. */
  public ManagedChannel track(ManagedChannel channel) {
    synchronized (channels) {
      channels.add(channel);
    }
    return channel;
  }

  @Override
  public void close() throws Exception {
    synchronized (channels) {
      TlsNodes.shutdown(channels.toArray(ManagedChannel[]::new));
    }
    for (SynodNode n : nodes) {
      if (n != null) {
        n.close();
      }
    }
  }
}
