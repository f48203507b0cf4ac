package dev.synod.server.observe;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import java.net.URL;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Configures the server process's logging before anything logs: the layout (text or JSON lines,
 * see {@code logback.xml}) and java.util.logging (gRPC's) routed through the same backend. Only
 * the process calls it; tests keep the quiet {@code logback-test.xml}.
 */
public final class LogSetup {
  /** {@code log-format}: one human-readable line per event. */
  public static final String TEXT = "text";
  /** {@code log-format}: one JSON object per line. */
  public static final String JSON = "json";

  private LogSetup() {}

  /**
   * Applies {@code format} ({@link #TEXT} or {@link #JSON}) through the bundled configuration,
   * unless the operator gave their own with {@code -Dlogback.configurationFile}.
   */
  public static void configure(String format) {
    System.setProperty("synod.log.format", format);
    if (System.getProperty("logback.configurationFile") == null) {
      ILoggerFactory factory = LoggerFactory.getILoggerFactory();
      URL config = LogSetup.class.getResource("/logback.xml");
      if (factory instanceof LoggerContext context && config != null) {
        context.reset();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        try {
          configurator.doConfigure(config);
        } catch (JoranException e) {
          throw new IllegalStateException("the bundled logback.xml does not load", e);
        }
      }
    }
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
  }
}
