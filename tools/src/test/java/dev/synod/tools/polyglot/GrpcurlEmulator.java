package dev.synod.tools.polyglot;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Does what grpcurl does for one call, with nothing from synod.proto compiled in: learns the
 * service and every type from the server's reflection (as grpcurl does, including the types of
 * error details), parses the request JSON with the proto3 JSON mapping (unknown fields are
 * errors), and prints answers and failures as grpcurl 1.9 prints them (golang/protobuf's jsonpb
 * with lowerCamelCase names, indented by encoding/json; {@code -emit-defaults} prints fields
 * that hold their default and unset messages as {@code null}; a failure is "ERROR:" with the
 * code, the message and each detail).
 */
public final class GrpcurlEmulator {
  private final Channel channel;
  private final Map<String, FileDescriptor> files = new HashMap<>();

  public GrpcurlEmulator(Channel channel) {
    this.channel = channel;
  }

  /** The output of one call: what grpcurl prints on stdout, then on stderr. */
  public String call(String service, String method, List<String> requests, boolean emitDefaults,
      double maxTimeSeconds) throws Exception {
    ServiceDescriptor svc = (ServiceDescriptor) symbol(service);
    MethodDescriptor m = svc.findMethodByName(method);
    if (m == null) {
      throw new IllegalArgumentException("no method " + method + " in " + service);
    }
    List<DynamicMessage> messages = new ArrayList<>();
    for (String json : requests) {
      DynamicMessage.Builder b = DynamicMessage.newBuilder(m.getInputType());
      JsonFormat.parser().merge(json, b);
      messages.add(b.build());
    }
    io.grpc.MethodDescriptor<DynamicMessage, DynamicMessage> grpcMethod =
        io.grpc.MethodDescriptor.<DynamicMessage, DynamicMessage>newBuilder()
            .setType(m.isClientStreaming() && m.isServerStreaming() ? io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING
                : m.isClientStreaming() ? io.grpc.MethodDescriptor.MethodType.CLIENT_STREAMING
                : m.isServerStreaming() ? io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING
                : io.grpc.MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(io.grpc.MethodDescriptor.generateFullMethodName(service, method))
            .setRequestMarshaller(marshaller(m.getInputType()))
            .setResponseMarshaller(marshaller(m.getOutputType()))
            .build();
    CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(
        maxTimeSeconds > 0 ? (long) (maxTimeSeconds * 1000) : 30_000, TimeUnit.MILLISECONDS);
    ClientCall<DynamicMessage, DynamicMessage> call = channel.newCall(grpcMethod, options);
    LinkedBlockingQueue<DynamicMessage> answers = new LinkedBlockingQueue<>();
    CompletableFuture<Object[]> closed = new CompletableFuture<>();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(DynamicMessage message) {
        answers.add(message);
        call.request(1);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(new Object[] {status, trailers});
      }
    }, new Metadata());
    call.request(1);
    for (DynamicMessage message : messages) {
      call.sendMessage(message);
    }
    call.halfClose();
    Object[] end = closed.get(60, TimeUnit.SECONDS);
    StringBuilder out = new StringBuilder();
    for (DynamicMessage answer : answers) {
      out.append(json(answer, emitDefaults)).append('\n');
    }
    Status status = (Status) end[0];
    if (!status.isOk()) {
      out.append(error(status, (Metadata) end[1], emitDefaults, maxTimeSeconds > 0));
    }
    return out.toString();
  }

  /** grpcurl's PrintStatus: code and message, then each detail as JSON, resolved by reflection. */
  private String error(Status status, Metadata trailers, boolean emitDefaults, boolean ownDeadline)
      throws Exception {
    String message = status.getDescription();
    if (status.getCode() == Status.Code.DEADLINE_EXCEEDED && ownDeadline) {
      message = "context deadline exceeded"; // grpc-go's words for the caller's own deadline
    }
    StringBuilder out = new StringBuilder("ERROR:\n  Code: " + goCode(status.getCode()) + "\n  Message: "
        + message + "\n");
    com.google.rpc.Status details = trailers == null ? null : StatusProto.fromStatusAndTrailers(status, trailers);
    if (details != null && details.getDetailsCount() > 0) {
      out.append("  Details:\n");
      for (int i = 0; i < details.getDetailsCount(); i++) {
        String prefix = "  " + (i + 1) + ")";
        String[] lines = json(details.getDetails(i), emitDefaults).split("\n", -1);
        out.append(prefix).append('\t').append(lines[0]).append('\n');
        for (int l = 1; l < lines.length; l++) {
          out.append(" ".repeat(prefix.length())).append('\t').append(lines[l]).append('\n');
        }
      }
    }
    return out.toString();
  }

  /** grpc-go's name of a status code: NOT_FOUND is NotFound. */
  static String goCode(Status.Code code) {
    StringBuilder name = new StringBuilder();
    for (String part : code.name().split("_")) {
      name.append(part.charAt(0)).append(part.substring(1).toLowerCase(Locale.ROOT));
    }
    return code == Status.Code.OK ? "OK" : name.toString();
  }

  // ---------------------------------------------------------------------------------------------
  // JSON as grpcurl prints it

  String json(Message message, boolean emitDefaults) throws Exception {
    StringBuilder out = new StringBuilder();
    value(out, message, emitDefaults, "");
    return out.toString();
  }

  private void value(StringBuilder out, Message message, boolean emitDefaults, String indent) throws Exception {
    List<String[]> entries = new ArrayList<>(); // key, rendered value (multi-line, not yet indented)
    if (message.getDescriptorForType().getFullName().equals("google.protobuf.Any")) {
      Any any = Any.parseFrom(message.toByteString());
      String type = any.getTypeUrl().substring(any.getTypeUrl().lastIndexOf('/') + 1);
      Descriptor d = (Descriptor) symbol(type);
      entries.add(new String[] {"@type", quote(any.getTypeUrl())});
      message = DynamicMessage.parseFrom(d, any.getValue());
    }
    for (FieldDescriptor fd : message.getDescriptorForType().getFields()) {
      boolean set = fd.isRepeated() ? message.getRepeatedFieldCount(fd) > 0 : !fd.hasPresence()
          ? !message.getField(fd).equals(fd.getDefaultValue()) : message.hasField(fd);
      if (!set) {
        if (!emitDefaults || fd.getContainingOneof() != null) {
          continue; // a oneof member or a proto3 optional (synthetic oneof) unset: never shown
        }
        if (!fd.isRepeated() && fd.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
          entries.add(new String[] {fd.getJsonName(), "null"});
          continue;
        }
      }
      StringBuilder v = new StringBuilder();
      if (fd.isMapField()) {
        TreeMap<String, Object> sorted = new TreeMap<>();
        for (Object entry : (List<?>) message.getField(fd)) {
          Message e = (Message) entry;
          FieldDescriptor key = e.getDescriptorForType().findFieldByName("key");
          FieldDescriptor val = e.getDescriptorForType().findFieldByName("value");
          sorted.put(String.valueOf(e.getField(key)), e.getField(val));
        }
        FieldDescriptor val = fd.getMessageType().findFieldByName("value");
        List<String[]> map = new ArrayList<>();
        for (var e : sorted.entrySet()) {
          StringBuilder one = new StringBuilder();
          scalarOrMessage(one, val, e.getValue(), emitDefaults, indent + "  ");
          map.add(new String[] {e.getKey(), one.toString()});
        }
        object(v, map, indent + "  ");
      } else if (fd.isRepeated()) {
        List<String> items = new ArrayList<>();
        for (int i = 0; i < message.getRepeatedFieldCount(fd); i++) {
          StringBuilder one = new StringBuilder();
          scalarOrMessage(one, fd, message.getRepeatedField(fd, i), emitDefaults, indent + "    ");
          items.add(one.toString());
        }
        if (items.isEmpty()) {
          v.append("[]");
        } else {
          v.append("[\n");
          for (int i = 0; i < items.size(); i++) {
            v.append(indent).append("    ").append(items.get(i)).append(i + 1 < items.size() ? ",\n" : "\n");
          }
          v.append(indent).append("  ]");
        }
      } else {
        scalarOrMessage(v, fd, message.getField(fd), emitDefaults, indent + "  ");
      }
      entries.add(new String[] {fd.getJsonName(), v.toString()});
    }
    object(out, entries, indent);
  }

  private static void object(StringBuilder out, List<String[]> entries, String indent) {
    if (entries.isEmpty()) {
      out.append("{}");
      return;
    }
    out.append("{\n");
    for (int i = 0; i < entries.size(); i++) {
      out.append(indent).append("  ").append(quote(entries.get(i)[0])).append(": ").append(entries.get(i)[1])
          .append(i + 1 < entries.size() ? ",\n" : "\n");
    }
    out.append(indent).append("}");
  }

  private void scalarOrMessage(StringBuilder out, FieldDescriptor fd, Object v, boolean emitDefaults,
      String indent) throws Exception {
    switch (fd.getType()) {
      case MESSAGE, GROUP -> value(out, (Message) v, emitDefaults, indent);
      case INT64, SINT64, SFIXED64 -> out.append('"').append(v).append('"');
      case UINT64, FIXED64 -> out.append('"').append(Long.toUnsignedString((Long) v)).append('"');
      case UINT32, FIXED32 -> out.append(Integer.toUnsignedString((Integer) v));
      case BYTES -> out.append('"').append(Base64.getEncoder().encodeToString(((ByteString) v).toByteArray())).append('"');
      case ENUM -> {
        EnumValueDescriptor e = (EnumValueDescriptor) v;
        out.append(e.getIndex() >= 0 ? quote(e.getName()) : Integer.toString(e.getNumber()));
      }
      case STRING -> out.append(quote((String) v));
      default -> out.append(v);
    }
  }

  private static String quote(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '<', '>', '&' -> out.append(String.format("\\u%04x", (int) c)); // as encoding/json does
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }

  // ---------------------------------------------------------------------------------------------
  // Server reflection, as grpcurl uses it

  /** The descriptor of a fully qualified name: file_containing_symbol, then its imports by name. */
  com.google.protobuf.Descriptors.GenericDescriptor symbol(String name) throws Exception {
    for (FileDescriptor f : files.values()) {
      var found = find(f, name);
      if (found != null) {
        return found;
      }
    }
    ServerReflectionResponse r = ask(ServerReflectionRequest.newBuilder().setFileContainingSymbol(name).build());
    if (r.hasErrorResponse()) {
      throw new IllegalStateException("reflection does not know " + name + ": " + r.getErrorResponse());
    }
    Map<String, FileDescriptorProto> protos = new HashMap<>();
    for (ByteString b : r.getFileDescriptorResponse().getFileDescriptorProtoList()) {
      FileDescriptorProto p = FileDescriptorProto.parseFrom(b);
      protos.put(p.getName(), p);
    }
    FileDescriptor first = build(FileDescriptorProto.parseFrom(r.getFileDescriptorResponse().getFileDescriptorProto(0)),
        protos);
    var found = find(first, name);
    if (found == null) {
      throw new IllegalStateException("the file reflection gave for " + name + " lacks it");
    }
    return found;
  }

  private FileDescriptor build(FileDescriptorProto proto, Map<String, FileDescriptorProto> known) throws Exception {
    FileDescriptor done = files.get(proto.getName());
    if (done != null) {
      return done;
    }
    List<FileDescriptor> deps = new ArrayList<>();
    for (String dep : proto.getDependencyList()) {
      FileDescriptorProto p = known.get(dep);
      if (p == null) {
        ServerReflectionResponse r = ask(ServerReflectionRequest.newBuilder().setFileByFilename(dep).build());
        for (ByteString b : r.getFileDescriptorResponse().getFileDescriptorProtoList()) {
          FileDescriptorProto q = FileDescriptorProto.parseFrom(b);
          known.putIfAbsent(q.getName(), q);
        }
        p = known.get(dep);
      }
      deps.add(build(p, known));
    }
    FileDescriptor f = FileDescriptor.buildFrom(proto, deps.toArray(new FileDescriptor[0]));
    files.put(f.getName(), f);
    return f;
  }

  private static com.google.protobuf.Descriptors.GenericDescriptor find(FileDescriptor f, String name) {
    String pkg = f.getPackage().isEmpty() ? "" : f.getPackage() + ".";
    if (!name.startsWith(pkg)) {
      return null;
    }
    String local = name.substring(pkg.length());
    if (f.findServiceByName(local) != null) {
      return f.findServiceByName(local);
    }
    return f.findMessageTypeByName(local);
  }

  private ServerReflectionResponse ask(ServerReflectionRequest request) throws Exception {
    CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> out = ServerReflectionGrpc.newStub(channel)
        .serverReflectionInfo(new StreamObserver<>() {
          @Override
          public void onNext(ServerReflectionResponse r) {
            answer.complete(r);
          }

          @Override
          public void onError(Throwable t) {
            answer.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    out.onNext(request);
    ServerReflectionResponse r = answer.get(10, TimeUnit.SECONDS);
    out.onCompleted();
    return r;
  }

  private static io.grpc.MethodDescriptor.Marshaller<DynamicMessage> marshaller(Descriptor type) {
    return new io.grpc.MethodDescriptor.Marshaller<>() {
      @Override
      public InputStream stream(DynamicMessage value) {
        return value.toByteString().newInput();
      }

      @Override
      public DynamicMessage parse(InputStream stream) {
        try {
          return DynamicMessage.parseFrom(type, stream);
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalStateException(e);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    };
  }
}
