package dev.synod.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ResultsTest {
  private static PhaseResult row(String system, String workload, int clients, long ops) {
    return new PhaseResult(system, workload, clients, ops, 10.0, 1.25, 4.5, 12.0, 0, 8.0, 3.0);
  }

  @Test
  void csvRowsSurviveARoundTrip() {
    PhaseResult r = new PhaseResult("Synod", "watch-all", 16, 12345, 10.002, 0.5, 2.25, 7.125, 3, 14.5, 6.25);
    PhaseResult back = PhaseResult.parseCsv(r.toCsv());
    assertEquals(r, back);
    assertEquals(12, PhaseResult.CSV_HEADER.split(",").length);
    assertEquals(List.of(r), PhaseResult.parseCsv(List.of(PhaseResult.CSV_HEADER, r.toCsv(), "")));
    assertThrows(IllegalArgumentException.class, () -> PhaseResult.parseCsv("Synod,write,1"));
    assertThrows(IllegalArgumentException.class,
        () -> PhaseResult.parseCsv("Synod,write,x,1,1,1,1,1,1,0,0,0"));
  }

  @Test
  void ratesDivideByTheMeasuredSecondsAndServerCpu() {
    PhaseResult r = row("Synod", "write", 4, 5000);
    assertEquals(500.0, r.opsPerSecond(), 1e-9);
    assertEquals(625.0, r.opsPerServerCpuSecond(), 1e-9);
    assertEquals(0.0, new PhaseResult("x", "w", 1, 5, 1, 0, 0, 0, 0, 0, 0).opsPerServerCpuSecond());
  }

  @Test
  void throughputTableGivesSynodsRatioToEachOtherSystem() {
    String md = new ResultsTable(List.of(
        row("etcd", "write", 1, 1000), row("Synod", "write", 1, 3000), row("ZooKeeper", "write", 1, 2000),
        row("Synod", "read", 16, 100000))).throughput();
    String[] lines = md.split("\n");
    assertEquals("| workload | clients | Synod ops/s | ZooKeeper ops/s | etcd ops/s | Synod ÷ ZooKeeper"
        + " | Synod ÷ etcd |", lines[0]);
    assertEquals("|---|---|---|---|---|---|---|", lines[1]);
    assertEquals("| write | 1 | 300 | 200 | 100 | 1.50× | 3.00× |", lines[2]);
    assertEquals("| read | 16 | 10,000 | – | – | – | – |", lines[3]);
    assertEquals(4, lines.length);
  }

  @Test
  void latencyAndCpuTablesHaveOneColumnPerSystem() {
    List<PhaseResult> rs = List.of(row("Synod", "lock", 16, 800), row("ZooKeeper", "lock", 16, 400));
    ResultsTable t = new ResultsTable(rs);
    assertTrue(t.latency().contains("| lock | 16 | 1.25 / 4.50 / 12.0 | 1.25 / 4.50 / 12.0 | 0 |"), t.latency());
    assertTrue(t.cpu().contains("| lock | 16 | 8.0 | 8.0 | 100 | 50 |"), t.cpu());
    assertTrue(ResultsTable.totals(List.of(ResultsTable.SystemCpu.parseCsv("etcd,30.00,60.00")))
        .contains("| etcd | 30.0 | 60.0 | 0.50 |"));
  }

  @Test
  void procStatTicksAreCountedAfterTheCommandName() {
    String stat = "4242 (java (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 30 0";
    assertEquals(1234 + 567, ServerCpu.parseTicks(stat));
  }
}
