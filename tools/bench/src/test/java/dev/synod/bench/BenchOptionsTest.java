package dev.synod.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class BenchOptionsTest {
  @Test
  void defaultsRunEveryWorkloadAtTheSweepOfClientCounts() {
    BenchOptions o = BenchOptions.parse("--system", "zookeeper", "--target", "127.0.0.1:2181");
    assertEquals(SystemKind.ZOOKEEPER, o.system());
    assertEquals(List.of(Workload.values()), o.workloads());
    assertEquals(List.of(1, 4, 16, 64), o.clients());
    assertEquals(100, o.valueBytes());
    assertEquals(256, o.keySpace());
    assertTrue(o.serverPids().isEmpty());
    assertNull(o.csvPath());
  }

  @Test
  void parsesEveryFlag() {
    BenchOptions o = BenchOptions.parse("--system", "etcd", "--target", "a:1, b:2,c:3",
        "--workloads", "Write,LOCK", "--clients", "2,300", "--duration-s", "7", "--warmup-s", "0",
        "--value-bytes", "64", "--key-space", "500", "--server-pids", "11,12", "--csv", "out.csv");
    assertEquals(List.of("a:1", "b:2", "c:3"), o.targets());
    assertEquals(List.of(Workload.WRITE, Workload.LOCK), o.workloads());
    assertEquals(List.of(2, 300), o.clients());
    assertEquals(7, o.durationS());
    assertEquals(0, o.warmupS());
    assertEquals(64, o.valueBytes());
    assertEquals(500, o.keySpace());
    assertEquals(List.of(11L, 12L), o.serverPids());
    assertEquals("out.csv", o.csvPath());
  }

  @Test
  void theKeySpaceGrowsToGiveEveryClientItsOwnKey() {
    assertEquals(1000, BenchOptions.parse("--system", "synod", "--target", "h:1", "--clients", "1000").keySpace());
  }

  @Test
  void badInputIsRejectedWithTheReason() {
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> BenchOptions.parse("--target", "h:1")).getMessage().contains("--system"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> BenchOptions.parse("--system", "consul", "--target", "h:1")).getMessage().contains("consul"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> BenchOptions.parse("--system", "synod", "--target", "h:1", "--workloads", "scan"))
        .getMessage().contains("scan"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> BenchOptions.parse("--system", "synod", "--target", "h:1", "--clients", "4,x"))
        .getMessage().contains("'x'"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> BenchOptions.parse("--system", "synod", "--target", "h:1", "--clients", "0"))
        .getMessage().contains("at least 1"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> BenchOptions.parse("--system", "synod", "--target", "h:1", "--clients", "64", "--key-space", "10"))
        .getMessage().contains("key-space"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> BenchOptions.parse("--system", "synod", "--target")).getMessage().contains("needs a value"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> BenchOptions.parse("--system", "synod", "--target", "h:1", "--threads", "3"))
        .getMessage().contains("--threads"));
  }
}
