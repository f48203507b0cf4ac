package dev.synod.client;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.synod.api.v1.Request;

/** The path a request is about, for messages that name it. */
final class RequestPaths {
  private RequestPaths() {}

  /** The {@code path} field of the request's operation, or "" when it has none (multi, status). */
  static String of(Request.Builder request) {
    if (request.getOpCase() == Request.OpCase.OP_NOT_SET) {
      return "";
    }
    FieldDescriptor op = Request.getDescriptor().findFieldByNumber(request.getOpCase().getNumber());
    if (op == null || op.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
      return "";
    }
    Message m = (Message) request.getField(op);
    FieldDescriptor path = m.getDescriptorForType().findFieldByName("path");
    return path != null && path.getJavaType() == FieldDescriptor.JavaType.STRING ? (String) m.getField(path) : "";
  }
}
