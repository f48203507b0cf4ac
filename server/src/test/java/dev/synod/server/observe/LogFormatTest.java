package dev.synod.server.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

/**
 * The bundled logback.xml, loaded into a context of its own (the tests' quiet one is left alone):
 * text lines or JSON objects on stderr, with the event's fields.
 */
class LogFormatTest {
  @Test
  void textIsOneLinePerEventOnStderr() throws Exception {
    List<String> lines = logWith("text");
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.get(0).matches("\\d{4}-\\d\\d-\\d\\dT\\S+ INFO  \\[[^]]+\\] replication: server 2: won the"
        + " election: leader at ballot 7\\.2"), lines.get(0));
  }

  @Test
  void jsonIsOneObjectPerLineWithTheEventsFields() throws Exception {
    List<String> lines = logWith("json");
    assertEquals(1, lines.size(), lines.toString());
    String json = lines.get(0);
    assertTrue(json.startsWith("{") && json.endsWith("}"), json);
    assertTrue(json.contains("\"level\":\"INFO\""), json);
    assertTrue(json.contains("\"formattedMessage\":\"server 2: won the election: leader at ballot 7.2\""), json);
    assertTrue(json.contains("{\"server\":\"2\"}") && json.contains("{\"ballot\":\"7.2\"}"), json);
  }

  @SuppressWarnings("unchecked") // the console appender of a classic context logs ILoggingEvents
  private static List<String> logWith(String format) throws Exception {
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new LogbackMDCAdapter()); // what the SLF4J provider does for the real one
    context.putProperty("synod.log.format", format);
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    try {
      configurator.doConfigure(LogFormatTest.class.getResource("/logback.xml"));
      ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
      ConsoleAppender<ILoggingEvent> console = (ConsoleAppender<ILoggingEvent>) root.getAppender("console");
      assertEquals("System.err", console.getTarget());
      // The same encoder, writing where the test can read it instead of to stderr.
      OutputStreamAppender<ILoggingEvent> capture = new OutputStreamAppender<>();
      capture.setContext(context);
      capture.setEncoder(console.getEncoder());
      capture.setOutputStream(captured);
      capture.start();
      root.detachAppender(console);
      root.addAppender(capture);
      Logger log = context.getLogger("dev.synod.server.replication");
      log.atInfo().addKeyValue("server", 2).addKeyValue("ballot", "7.2")
          .log("server {}: won the election: leader at ballot {}", 2, "7.2");
      context.getLogger("dev.synod.server.replication").debug("not at the default level");
    } finally {
      context.stop();
    }
    List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
    if (lines.isEmpty()) {
      throw new AssertionError("nothing logged; logback said: " + context.getStatusManager().getCopyOfStatusList());
    }
    return lines;
  }
}
