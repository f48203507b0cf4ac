package dev.synod.server.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.server.sim.Linearizability.Op;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LinearizabilityTest {
  @Test
  void concurrentWritesMayTakeEitherOrder() {
    assertEquals(Optional.empty(), Linearizability.check(List.of(
        new Op("a", 0, 10, 2, true), new Op("b", 5, 8, 1, true))));
  }

  @Test
  void aWriteStartedAfterAnotherWasAcknowledgedMustComeLater() {
    Optional<String> v = Linearizability.check(List.of(
        new Op("a", 0, 10, 2, true), new Op("b", 11, 20, 1, true)));
    assertTrue(v.isPresent() && v.get().contains("b started after a"), v.toString());
  }

  @Test
  void aSyncMustSeeEveryWriteAcknowledgedBeforeItStarted() {
    assertEquals(Optional.empty(), Linearizability.check(List.of(
        new Op("w", 0, 10, 5, true), new Op("sync", 11, 12, 5, false))));
    assertTrue(Linearizability.check(List.of(
        new Op("w", 0, 10, 5, true), new Op("sync", 11, 12, 4, false))).isPresent());
  }

  @Test
  void aWriteStartedAfterASyncSawZxidSevenCannotBeZxidThree() {
    assertTrue(Linearizability.check(List.of(
        new Op("sync", 0, 10, 7, false), new Op("w", 11, 20, 3, true))).isPresent());
    assertEquals(Optional.empty(), Linearizability.check(List.of(
        new Op("sync", 0, 10, 7, false), new Op("w", 11, 20, 8, true))));
  }
}
