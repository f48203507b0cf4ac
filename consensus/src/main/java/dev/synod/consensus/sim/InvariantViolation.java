package dev.synod.consensus.sim;

/** A safety or liveness property failed; the simulator reports it with the seed and event number. */
public final class InvariantViolation extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public InvariantViolation(String message) {
    super(message);
  }
}
