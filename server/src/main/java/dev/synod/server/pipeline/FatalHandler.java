package dev.synod.server.pipeline;

/**
 * What to do when the node can no longer keep its promises (a log write or fsync failed). A
 * storage error stops the node; it never limps on. The process handler halts the JVM; tests
 * record the failure instead.
 */
@FunctionalInterface
public interface FatalHandler {
  void fatal(String what, Throwable cause);

  FatalHandler HALT = (what, cause) -> {
    // The console appender writes synchronously: the line is out before the halt.
    org.slf4j.LoggerFactory.getLogger(FatalHandler.class).error("FATAL: {}: {}", what, cause.toString(), cause);
    Runtime.getRuntime().halt(74);
  };
}
