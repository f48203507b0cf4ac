package dev.synod.server.storage;

/**
 * Test hook for crash tests: a named point in a multi-step durable operation where a test may
 * ask the process to die at once (as SIGKILL would), to prove recovery from that exact state.
 * Production uses {@link #NONE}.
 */
public interface FaultInjector {
  FaultInjector NONE = point -> {};

  /** Called when the operation reaches {@code point}; may halt the JVM. */
  void at(String point);

  /** Halts the JVM with exit code 137 when {@code point} equals {@code crashPoint}. */
  static FaultInjector haltAt(String crashPoint) {
    if (crashPoint == null || crashPoint.isEmpty()) {
      return NONE;
    }
    return point -> {
      if (point.equals(crashPoint)) {
        org.slf4j.LoggerFactory.getLogger(FaultInjector.class)
            .warn("fault injection: halting at {}", point);
        Runtime.getRuntime().halt(137);
      }
    };
  }
}
