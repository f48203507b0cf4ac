package dev.synod.server.state;

import dev.synod.api.v1.Acl;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.NodeKind;
import dev.synod.server.auth.Acls;
import java.util.List;

/**
 * The rules of a create and an ACL that need no state and no settings: node kind, ttl_ms, ACL
 * entries. The server where a request enters checks them before the log (so a bad request is
 * refused early and never written), and apply checks them again (a Txn from an older version or
 * another member is held to the same rules); both call this one place.
 */
public final class NodeRules {
  private NodeRules() {}

  /** Refuses an unknown kind, and a ttl_ms that is missing, misplaced or over the maximum. */
  public static void checkKindAndTtl(CreateRequest request) throws SynodException {
    String path = request.getPath();
    NodeKind kind = request.getKind();
    long ttlMs = request.getTtlMs();
    if (kind == NodeKind.UNRECOGNIZED) {
      throw new SynodException(ErrorReason.BAD_ARGUMENT, "unknown node kind for " + path, path);
    }
    if (kind != NodeKind.TTL) {
      if (ttlMs != 0) {
        throw new SynodException(ErrorReason.INVALID_TTL,
            "ttl_ms is only for TTL nodes; " + path + " is " + kind + " (got ttl_ms " + ttlMs + ")", path);
      }
      return;
    }
    if (ttlMs <= 0) {
      throw new SynodException(ErrorReason.INVALID_TTL,
          "TTL node " + path + " needs ttl_ms > 0, got " + ttlMs, path);
    }
    if (ttlMs > ReplicatedLimits.TTL_MS_MAX) {
      throw new SynodException(ErrorReason.INVALID_TTL, "ttl_ms " + ttlMs
          + " is over the maximum of " + ReplicatedLimits.TTL_MS_MAX + " (2^40 - 1 ms, about 34.8 years)",
          path);
    }
  }

  /**
   * Refuses (INVALID_ACL) an entry of an unknown scheme, with a malformed id, or with permissions
   * outside 1..31 (see {@link Acls#checkEntries}).
   */
  public static void checkAcl(List<Acl> acl, String path) throws SynodException {
    Acls.checkEntries(acl, path);
  }
}
