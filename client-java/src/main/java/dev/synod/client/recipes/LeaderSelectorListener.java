package dev.synod.client.recipes;

/** The work a {@link LeaderSelector} does while it leads. */
@FunctionalInterface
public interface LeaderSelectorListener {
  /**
   * Called on the selector's own thread when this participant becomes the leader; leadership is
   * held until the method returns. If leadership is lost meanwhile (session expired, jeopardy,
   * node deleted) or the selector is closed, the thread is interrupted and
   * {@link Leadership#isValid()} turns false: return promptly then.
   */
  void takeLeadership(Leadership leadership) throws Exception;
}
