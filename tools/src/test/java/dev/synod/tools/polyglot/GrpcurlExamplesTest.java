package dev.synod.tools.polyglot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.synod.api.v1.SynodProto;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README promises a grpcurl example for every call that pastes and prints what it shows. These
 * checks keep that block true: every method of the service appears; every request parses, with
 * the proto3 JSON mapping grpcurl uses, into that method's request type (an unknown or misspelt
 * field, a wrong type or a bad enum name fails); and the whole block runs, in order, against a
 * fresh server through a client that does what grpcurl does ({@link GrpcurlEmulator}: server
 * reflection only, the same JSON in and out), printing exactly the outputs shown.
 */
class GrpcurlExamplesTest {
  private static final ServiceDescriptor SERVICE = SynodProto.getDescriptor().findServiceByName("Synod");

  private static List<GrpcurlExamples.Call> calls() throws Exception {
    return GrpcurlExamples.in(Files.readString(Repository.root().resolve("README.md")));
  }

  @Test
  void everyMethodOfTheServiceHasAnExample() throws Exception {
    Set<String> shown = calls().stream().map(GrpcurlExamples.Call::method)
        .collect(Collectors.toCollection(TreeSet::new));
    Set<String> methods = SERVICE.getMethods().stream().map(MethodDescriptor::getName)
        .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(methods, shown, "methods of synod.v1.Synod vs those the README's grpcurl block calls");
  }

  @Test
  void everyExampleRunsInOrderAndPrintsWhatTheReadmeShows(@TempDir Path dir) throws Exception {
    List<GrpcurlExamples.Step> steps = GrpcurlExamples.steps(Files.readString(Repository.root().resolve("README.md")));
    StringBuilder transcript = new StringBuilder();
    List<String> mismatches = new ArrayList<>();
    try (InProcessServer server = InProcessServer.start(dir.resolve("data"))) {
      ManagedChannel channel = server.channel();
      try {
        GrpcurlEmulator grpcurl = new GrpcurlEmulator(channel);
        Map<String, String> shell = new HashMap<>();
        for (GrpcurlExamples.Step step : steps) {
          String printed = "";
          if (step instanceof GrpcurlExamples.Assign a) {
            shell.put(a.name(), a.value());
          } else if (step instanceof GrpcurlExamples.Echo e) {
            printed = shell.getOrDefault(e.name(), "") + "\n";
          } else if (step instanceof GrpcurlExamples.Jq q) {
            JsonElement field = JsonParser.parseString(shell.get(q.from())).getAsJsonObject().get(q.field());
            assertTrue(field != null && field.isJsonPrimitive(), q.source() + ": no ." + q.field());
            shell.put(q.name(), field.getAsString());
          } else if (step instanceof GrpcurlExamples.Call c) {
            String output = grpcurl.call("synod.v1.Synod", c.method(), c.messages(shell), c.emitDefaults(),
                c.maxTimeSeconds());
            if (c.into() != null) {
              shell.put(c.into(), output.endsWith("\n") ? output.substring(0, output.length() - 1) : output);
            } else {
              printed = output;
            }
          }
          transcript.append(step.source()).append('\n');
          printed.lines().forEach(l -> transcript.append(l.isEmpty() ? "#" : "# " + l).append('\n'));
          String expected = String.join("\n", step.expected());
          String actual = printed.endsWith("\n") ? printed.substring(0, printed.length() - 1) : printed;
          if (!masked(expected).equals(masked(actual))) {
            mismatches.add(step.source() + "\n--- the README shows:\n" + expected + "\n--- the server answered:\n" + actual);
          }
        }
      } finally {
        channel.shutdownNow();
      }
    }
    // The whole run, as the README would show it, for updating the README when the API changes.
    Path out = Path.of("target", "grpcurl-transcript.txt");
    Files.createDirectories(out.getParent());
    Files.writeString(out, transcript);
    assertTrue(mismatches.isEmpty(), mismatches.size() + " outputs differ from the README (the whole run is in "
        + out.toAbsolutePath() + "):\n\n" + String.join("\n\n", mismatches));
  }

  /**
   * Values that differ from run to run: times, the session's random secret, and the peer address
   * Status shows (the README's server uses the default peer port, this test a free one).
   */
  private static String masked(String output) {
    return output.replaceAll("\"(secret|ctimeMs|mtimeMs|uptimeMs|timeLeftMs)\": \"\\d+\"", "\"$1\": \"...\"")
        .replaceAll("\"address\": \"127\\.0\\.0\\.1:\\d+\"", "\"address\": \"127.0.0.1:...\"");
  }

  @Test
  void everyExampleRequestMatchesTheProto() throws Exception {
    // Parsing ignores nothing: unknown fields are errors, as they are for grpcurl.
    JsonFormat.Parser parser = JsonFormat.parser();
    for (GrpcurlExamples.Call call : calls()) {
      MethodDescriptor method = SERVICE.findMethodByName(call.method());
      if (method == null) {
        fail("the README calls synod.v1.Synod/" + call.method() + ", which the service lacks");
      }
      assertTrue(method.isClientStreaming() || call.messages().size() == 1,
          () -> "a unary-request call sends exactly one message: " + call.source());
      for (String json : call.messages(Map.of("SID", "12", "SECRET", "34"))) {
        try {
          parser.merge(elided(json), DynamicMessage.newBuilder(method.getInputType()));
        } catch (InvalidProtocolBufferException e) {
          fail(call.method() + " example is not a valid " + method.getInputType().getFullName()
              + " (" + e.getMessage() + "): " + json);
        }
      }
    }
  }

  /** The README elides long numbers as {@code "1234..."}; parse them as the digits shown. */
  private static String elided(String json) {
    return json.replaceAll("\"(\\d+)\\.\\.\\.\"", "\"$1\"");
  }
}
