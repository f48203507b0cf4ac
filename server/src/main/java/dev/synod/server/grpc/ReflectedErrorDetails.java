package dev.synod.server.grpc;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.google.rpc.ErrorDetailsProto;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes the error details the server sends (google.rpc.ErrorInfo, in every failed call's status)
 * known to server reflection, so grpcurl can print them instead of
 * {@code "google.rpc.ErrorInfo is not recognized"}.
 *
 * <p>Reflection serves the files of the registered services and what they import; synod.proto
 * does not import google/rpc/error_details.proto (that would make every language's stub
 * generation need Google's API protos). So the Synod service is registered with a copy of its
 * file descriptor that also lists error_details.proto as a dependency: the same messages and
 * services, one more import. Only reflection reads it; the generated code keeps the original.
 */
final class ReflectedErrorDetails {
  private static final FileDescriptor ERROR_DETAILS = ErrorDetailsProto.getDescriptor();

  private ReflectedErrorDetails() {}

  /** The service, described to reflection by its file plus the error-details import. */
  static ServerServiceDefinition withErrorDetails(ServerServiceDefinition service) {
    io.grpc.ServiceDescriptor original = service.getServiceDescriptor();
    if (!(original.getSchemaDescriptor() instanceof ProtoServiceDescriptorSupplier supplier)) {
      throw new IllegalArgumentException(original.getName() + " has no protobuf descriptor");
    }
    FileDescriptor file = importingErrorDetails(supplier.getFileDescriptor());
    ServiceDescriptor described = file.findServiceByName(supplier.getServiceDescriptor().getName());
    io.grpc.ServiceDescriptor.Builder descriptor = io.grpc.ServiceDescriptor.newBuilder(original.getName())
        .setSchemaDescriptor(new ProtoServiceDescriptorSupplier() {
          @Override
          public FileDescriptor getFileDescriptor() {
            return file;
          }

          @Override
          public ServiceDescriptor getServiceDescriptor() {
            return described;
          }
        });
    // Same method descriptors (a definition must bind the very instances its descriptor lists).
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      descriptor.addMethod(method.getMethodDescriptor());
    }
    ServerServiceDefinition.Builder out = ServerServiceDefinition.builder(descriptor.build());
    service.getMethods().forEach(out::addMethod);
    return out.build();
  }

  /** {@code file} with google/rpc/error_details.proto added to its imports. */
  static FileDescriptor importingErrorDetails(FileDescriptor file) {
    if (file.getDependencies().contains(ERROR_DETAILS)) {
      return file;
    }
    FileDescriptorProto proto = file.toProto().toBuilder().addDependency(ERROR_DETAILS.getName()).build();
    List<FileDescriptor> dependencies = new ArrayList<>(file.getDependencies());
    dependencies.add(ERROR_DETAILS);
    try {
      return FileDescriptor.buildFrom(proto, dependencies.toArray(new FileDescriptor[0]));
    } catch (DescriptorValidationException e) {
      throw new IllegalStateException("cannot add error_details.proto to " + file.getName(), e);
    }
  }
}
