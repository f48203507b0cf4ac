package dev.synod.server.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.server.config.ConfigParser;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.storage.ClusterIdentity;
import dev.synod.server.storage.DurableStore;
import dev.synod.server.storage.FaultInjector;
import dev.synod.txn.v1.Committed;
import dev.synod.txn.v1.LogEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which cluster a data directory belongs to: an empty directory of a multi-member cluster needs
 * the operator to say whether it founds the cluster or joins it; anything already in it decides.
 */
class ClusterCreationTest {
  private static final String MEMBERS = "1=127.0.0.1:7071,2=127.0.0.1:7081,3=127.0.0.1:7091";

  @TempDir Path tmp;

  private ClusterIdentity establish(String... flags) throws Exception {
    List<String> args = new ArrayList<>(List.of("--data-dir", tmp.resolve("data").toString()));
    args.addAll(List.of(flags));
    ServerConfig config = ConfigParser.parse(args.toArray(String[]::new));
    ClusterConfig cluster = ClusterConfig.parse(config.members(), config.serverId(), config.host(),
        config.peerPort());
    try (DurableStore store = DurableStore.open(config.dataDir(), 1 << 20, FaultInjector.NONE)) {
      return ClusterCreation.establish(config, cluster, store);
    }
  }

  @Test
  void anEmptyDirectoryWithMembersAndNoFlagIsRefused_inOneLineNamingTheFlag() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> establish("--members", MEMBERS));
    assertTrue(e.getMessage().contains("--initial-cluster-state new")
        && e.getMessage().contains("--initial-cluster-state existing"), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line");
    assertTrue(e.getMessage().contains(tmp.resolve("data").toAbsolutePath().toString()), e.getMessage());
    assertFalse(Files.exists(tmp.resolve("data").resolve("CLUSTER")), "nothing recorded");
  }

  @Test
  void newFoundsTheClusterAndIsRememberedWithoutTheFlag() throws Exception {
    assertEquals(ClusterIdentity.founder(), establish("--members", MEMBERS, "--initial-cluster-state", "new"));
    assertEquals(ClusterIdentity.founder(), establish("--members", MEMBERS), "the directory decides now");
    assertEquals(ClusterIdentity.founder(), establish("--members", MEMBERS, "--initial-cluster-state", "existing"),
        "the flag is read for an empty directory only");
  }

  @Test
  void existingJoins() throws Exception {
    assertEquals(ClusterIdentity.joiner(), establish("--members", MEMBERS, "--initial-cluster-state", "existing"));
    assertEquals(ClusterIdentity.joiner(), establish("--members", MEMBERS, "--initial-cluster-state", "new"));
  }

  @Test
  void aClusterOfOneFoundsItselfByDefault_andCannotJoinAnything() throws Exception {
    assertThrows(IllegalArgumentException.class, () -> establish("--initial-cluster-state", "existing"));
    assertEquals(ClusterIdentity.founder(), establish());
  }

  @Test
  void aDirectoryWithDataFromBeforeIdentitiesIsAMemberThatLearnsItsId() throws Exception {
    try (DurableStore store = DurableStore.open(tmp.resolve("data"), 1 << 20, FaultInjector.NONE)) {
      store.appendAndSync(List.of(LogEntry.newBuilder().setCommitted(Committed.newBuilder().setSlot(0)).build()));
    }
    assertEquals(ClusterIdentity.joiner(), establish("--members", MEMBERS));
  }

  @Test
  void aBadFlagValueIsAConfigurationError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ConfigParser.parse("--initial-cluster-state", "fresh"));
    assertTrue(e.getMessage().startsWith("initial-cluster-state must be new or existing"), e.getMessage());
  }

  private Path backupFile() throws Exception {
    java.util.SortedMap<String, dev.synod.txn.v1.NodeRecord> nodes = new java.util.TreeMap<>();
    nodes.put("/", dev.synod.txn.v1.NodeRecord.newBuilder().setStat(dev.synod.api.v1.Stat.newBuilder()
        .setNumChildren(1)).build());
    nodes.put("/restored", dev.synod.txn.v1.NodeRecord.newBuilder()
        .setData(com.google.protobuf.ByteString.copyFromUtf8("v"))
        .setStat(dev.synod.api.v1.Stat.newBuilder().setCzxid(41).setMzxid(42).setDataLength(1)).build());
    dev.synod.server.storage.Snapshot s = new dev.synod.server.storage.Snapshot(42, 0, 5, nodes, List.of());
    Path file = tmp.resolve("b.backup");
    List<dev.synod.api.v1.BackupChunk> chunks = new ArrayList<>();
    dev.synod.server.storage.BackupFormat.write(s, 77, 1, 0, chunks::add);
    dev.synod.server.storage.BackupFormat.writeFile(file, chunks.iterator());
    return file;
  }

  @Test
  void restoreFoundsANewClusterWithTheBackupsStateAsItsFirstSnapshot() throws Exception {
    Path file = backupFile();
    assertEquals(ClusterIdentity.founder(), establish("--members", MEMBERS, "--initial-cluster-state", "new",
        "--restore", file.toString()));
    try (DurableStore store = DurableStore.open(tmp.resolve("data"), 1 << 20, FaultInjector.NONE)) {
      var snapshot = store.loadSnapshot().orElseThrow();
      assertEquals(42, snapshot.zxid());
      assertEquals(0, snapshot.slot());
      assertTrue(snapshot.nodes().containsKey("/restored"));
    }
    // Started again with the same command line: the directory decides, nothing is restored twice.
    assertEquals(ClusterIdentity.founder(), establish("--members", MEMBERS, "--initial-cluster-state", "new",
        "--restore", file.toString()));
  }

  @Test
  void aBadBackupLeavesTheDirectoryEmpty_andExistingCannotRestore() throws Exception {
    Path file = backupFile();
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 10));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> establish("--members",
        MEMBERS, "--initial-cluster-state", "new", "--restore", file.toString()));
    assertTrue(e.getMessage().startsWith("restore: ") && !e.getMessage().contains("\n"), e.getMessage());
    assertFalse(Files.exists(tmp.resolve("data").resolve("CLUSTER")), "nothing recorded");
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> establish("--members",
        MEMBERS, "--initial-cluster-state", "new", "--restore", tmp.resolve("nope").toString()));
    assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
    assertThrows(IllegalArgumentException.class, () -> establish("--members", MEMBERS,
        "--initial-cluster-state", "existing", "--restore", backupFile().toString()));
  }

  @Test
  void aRestoredBackupLeavesTheMembershipOfTheClusterItCameFromBehind() {
    dev.synod.server.state.StateMachine source = new dev.synod.server.state.StateMachine(
        dev.synod.server.state.StateLimits.defaults(), dev.synod.server.state.WatchDispatcher.NONE);
    source.apply(dev.synod.txn.v1.Txn.newBuilder().setZxid(1).setSetMembers(dev.synod.txn.v1.SetMembersTxn.newBuilder()
        .setMembers(com.google.protobuf.ByteString.copyFromUtf8("1 voter old:1\n7 voter old:7\n"))).build(), r -> { });
    dev.synod.server.storage.Snapshot backup = source.snapshot();
    dev.synod.server.storage.Snapshot restored = ClusterCreation.withoutMembership(backup);
    assertFalse(restored.nodes().containsKey(dev.synod.server.state.Paths.MEMBERS));
    assertEquals(0, restored.nodes().get(dev.synod.server.state.Paths.SYSTEM).getStat().getNumChildren());
    dev.synod.server.state.StateMachine target = new dev.synod.server.state.StateMachine(
        dev.synod.server.state.StateLimits.defaults(), dev.synod.server.state.WatchDispatcher.NONE);
    target.restore(restored); // a consistent tree
    assertEquals(java.util.Optional.empty(), MembersNode.read(target));
    assertEquals(backup.zxid(), restored.zxid());
  }
}
