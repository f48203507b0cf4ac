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

  public static Op create(String path, byte[] data) {
    return create(path, data, CreateOptions.PERSISTENT);
  }

  public static Op create(String path, byte[] data, CreateOptions options) {
    return new Op(dev.synod.api.v1.Op.newBuilder().setCreate(options.toRequest(path, data)).build());
  }

  public static Op delete(String path, int version) {
    return new Op(dev.synod.api.v1.Op.newBuilder()
        .setDelete(DeleteRequest.newBuilder().setPath(path).setVersion(version)).build());
  }

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

  public dev.synod.api.v1.Op toProto() {
    return proto;
  }
}
