package dev.synod.client;

import dev.synod.api.v1.OpResult;
import java.util.List;

/**
 * A multi failed and nothing of it applied. {@link #failedIndex()} is the op that failed (its
 * reason is this exception's reason); {@link #results()} has one result per op (the others carry
 * RUNTIME_INCONSISTENCY).
 */
public class MultiFailedException extends SynodException {
  private final int failedIndex;
  private final List<OpResult> results;

  public MultiFailedException(SynodException cause, int failedIndex, List<OpResult> results) {
    super(cause.reason(), "multi op " + failedIndex + " failed: " + cause.getMessage(), cause.path(), cause);
    this.failedIndex = failedIndex;
    this.results = List.copyOf(results);
  }

  /** The index (from 0, as the ops were given) of the op that failed. */
  public int failedIndex() {
    return failedIndex;
  }

  /** One result per op: the failed one's error, RUNTIME_INCONSISTENCY for the others. */
  public List<OpResult> results() {
    return results;
  }

  /** The typed exception of the failing op (NoNodeException, BadVersionException, ...). */
  public SynodException failure() {
    return (SynodException) getCause();
  }
}
