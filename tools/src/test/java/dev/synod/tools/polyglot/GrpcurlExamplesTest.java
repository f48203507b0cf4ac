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
import java.nio.file.Files;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The README promises a grpcurl example for every call. These checks keep that block in step
 * with synod.proto: every method of the service appears, and every request parses, with the
 * proto3 JSON mapping grpcurl uses, into that method's request type (an unknown or misspelt
 * field, a wrong type or a bad enum name fails).
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
  void everyExampleRequestMatchesTheProto() throws Exception {
    // Parsing ignores nothing: unknown fields are errors, as they are for grpcurl.
    JsonFormat.Parser parser = JsonFormat.parser();
    for (GrpcurlExamples.Call call : calls()) {
      MethodDescriptor method = SERVICE.findMethodByName(call.method());
      if (method == null) {
        fail("the README calls synod.v1.Synod/" + call.method() + ", which the service lacks");
      }
      assertTrue(method.isClientStreaming() || call.messages().size() == 1,
          () -> "a unary-request call sends exactly one message: " + call.command());
      for (String json : call.messages()) {
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
