package dev.synod.client;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CheckRequest;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.SetDataRequest;

/** One operation of a {@link SynodClient#multi} transaction. Version -1 means any. */
public final class Op {
  final dev.synod.api.v1.Op proto;

  private Op(dev.synod.api.v1.Op proto) {
    this.proto = proto;
  }

  /** Creates a persistent node. */
  public static Op create(String path, byte[] data) {
    return create(path, data, CreateOptions.PERSISTENT);
  }

  /** Creates a node as {@code options} say. */
  public static Op create(String path, byte[] data, CreateOptions options) {
    return new Op(dev.synod.api.v1.Op.newBuilder().setCreate(options.toRequest(path, data)).build());
  }

  /** Deletes the node if its version is {@code version} (-1: any). */
  public static Op delete(String path, int version) {
    return new Op(dev.synod.api.v1.Op.newBuilder()
        .setDelete(DeleteRequest.newBuilder().setPath(path).setVersion(version)).build());
  }

  /** Replaces the node's data if its version is {@code version} (-1: any). */
  public static Op setData(String path, byte[] data, int version) {
    return new Op(dev.synod.api.v1.Op.newBuilder()
        .setSetData(SetDataRequest.newBuilder().setPath(path)
            .setData(ByteString.copyFrom(data)).setVersion(version)).build());
  }

  /** Checks that the node exists and, unless {@code version} is -1, has that version. */
  public static Op check(String path, int version) {
    return new Op(dev.synod.api.v1.Op.newBuilder()
        .setCheck(CheckRequest.newBuilder().setPath(path).setVersion(version)).build());
  }

  /** The wire form of this op. */
  public dev.synod.api.v1.Op toProto() {
    return proto;
  }
}
