package dev.synod.server.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
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

  private static List<String> logWith(String format) throws Exception {
    LoggerContext context = new LoggerContext();
    context.putProperty("synod.log.format", format);
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    PrintStream stderr = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      configurator.doConfigure(LogFormatTest.class.getResource("/logback.xml"));
      Logger log = context.getLogger("dev.synod.server.replication");
      log.atInfo().addKeyValue("server", 2).addKeyValue("ballot", "7.2")
          .log("server {}: won the election: leader at ballot {}", 2, "7.2");
      context.getLogger("dev.synod.server.replication").debug("not at the default level");
    } finally {
      System.setErr(stderr);
      context.stop();
    }
    return captured.toString(StandardCharsets.UTF_8).lines().toList();
  }
}
