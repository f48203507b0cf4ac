package dev.synod.server.pipeline;

import dev.synod.server.state.SynodException;
import dev.synod.txn.v1.Txn;
import java.util.function.LongConsumer;

/**
 * The one way a write reaches the state: it is sequenced (zxid and time stamped), made durable,
 * and applied, in submission order. A single node sequences and persists itself
 * ({@link LocalSequencer}); a replicated node puts consensus in the same place. Either way every
 * replica applies the same Txns through the same apply path.
 */
public interface WritePipeline {
  /**
   * Queues a write. The Txn carries the op, session id and request number; the pipeline stamps
   * zxid and time (and, for create_session, the session id and secret).
   *
   * @throws SynodException OVERLOADED when the queue is full, SHUTTING_DOWN or STORAGE_FAILURE
   *     when the pipeline no longer accepts writes
   */
  void submit(Txn.Builder txn, Applied onApplied) throws SynodException;

  /**
   * Runs {@code afterApplied} with the last applied zxid once every write submitted before this
   * call has been applied. Same thread rules as {@link Applied}.
   */
  void barrier(LongConsumer afterApplied) throws SynodException;
}
