package dev.synod.server.pipeline;

import dev.synod.api.v1.Response;
import dev.synod.txn.v1.Txn;

/**
 * Told when a submitted write has been applied: the stamped Txn and its result. Runs on the apply
 * thread while the state machine holds its lock, right after the Txn's watch events were
 * dispatched, so it must only enqueue (send on a stream, complete a future), never block.
 */
@FunctionalInterface
public interface Applied {
  void onApplied(Txn txn, Response response);
}
