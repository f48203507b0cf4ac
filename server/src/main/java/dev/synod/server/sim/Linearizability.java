package dev.synod.server.sim;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The real-time rule of linearizability for a history whose operations carry the zxid they took
 * effect at (writes) or observed (Syncs): since zxids totally order the decided history, the
 * history is linearizable in that order iff no operation that started after another completed is
 * ordered before it. A write must take a zxid above every zxid acknowledged (by a write or a Sync)
 * before it started: those were decided already; a Sync must return a zxid at least that high. Used by the whole-server simulator and by the
 * real-process fault tests, so both are judged by one rule.
 */
public final class Linearizability {
  /** One completed operation: when it was first sent, when it was acknowledged, at which zxid. */
  public record Op(String name, long invokeNanos, long completeNanos, long zxid, boolean write) {}

  private Linearizability() {}

  /** The first violation, or empty if the history is linearizable in zxid order. */
  public static Optional<String> check(List<Op> history) {
    List<Op> byInvoke = new ArrayList<>(history);
    byInvoke.sort(Comparator.comparingLong(Op::invokeNanos));
    List<Op> byCompletion = new ArrayList<>(history);
    byCompletion.sort(Comparator.comparingLong(Op::completeNanos));
    int done = 0;
    Op newest = null; // the operation with the highest zxid among those completed so far
    for (Op op : byInvoke) {
      while (done < byCompletion.size() && byCompletion.get(done).completeNanos() < op.invokeNanos()) {
        Op w = byCompletion.get(done++);
        if (newest == null || w.zxid() > newest.zxid()) {
          newest = w;
        }
      }
      if (newest != null && (op.write() ? op.zxid() <= newest.zxid() : op.zxid() < newest.zxid())) {
        return Optional.of("not linearizable: " + op.name() + " started after " + newest.name()
            + " (zxid " + newest.zxid() + ") was acknowledged, but is ordered at zxid " + op.zxid());
      }
    }
    return Optional.empty();
  }
}
