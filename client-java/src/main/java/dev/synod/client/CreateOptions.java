package dev.synod.client;

import dev.synod.api.v1.Acl;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.NodeKind;
import com.google.protobuf.ByteString;
import java.time.Duration;
import java.util.List;

/**
 * How to create a node: kind, sequential, TTL (for {@link NodeKind#TTL}) and ACL (empty =
 * world:anyone:ALL). Immutable; every "with" method returns a copy.
 * {@code CreateOptions.of(NodeKind.EPHEMERAL).sequential()}.
 */
public record CreateOptions(NodeKind kind, boolean isSequential, long ttlMs, List<Acl> acl) {
  /** A plain persistent node, world-readable and writable. */
  public static final CreateOptions PERSISTENT = of(NodeKind.PERSISTENT);

  public CreateOptions {
    acl = List.copyOf(acl);
  }

  /** A node of {@code kind}, not sequential, no TTL, the open ACL. */
  public static CreateOptions of(NodeKind kind) {
    return new CreateOptions(kind, false, 0, List.of());
  }

  /** A TTL node: deleted once unmodified and childless for {@code ttl}. */
  public static CreateOptions ttl(Duration ttl) {
    return new CreateOptions(NodeKind.TTL, false, ttl.toMillis(), List.of());
  }

  /** The same, with a 10-digit increasing counter appended to the name by the server. */
  public CreateOptions sequential() {
    return new CreateOptions(kind, true, ttlMs, acl);
  }

  /** The same, with this ACL (empty: world:anyone:ALL). */
  public CreateOptions withAcl(List<Acl> acl) {
    return new CreateOptions(kind, isSequential, ttlMs, acl);
  }

  CreateRequest toRequest(String path, byte[] data) {
    return CreateRequest.newBuilder()
        .setPath(path)
        .setData(ByteString.copyFrom(data == null ? new byte[0] : data))
        .setKind(kind)
        .setSequential(isSequential)
        .setTtlMs(ttlMs)
        .addAllAcl(acl)
        .build();
  }
}
