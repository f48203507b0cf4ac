package dev.synod.server.state;

import dev.synod.api.v1.Acl;
import dev.synod.api.v1.CheckRequest;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.CreateResponse;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.SetAclRequest;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.Quota;
import dev.synod.api.v1.QuotaUsage;
import dev.synod.api.v1.SetQuotaRequest;
import dev.synod.api.v1.Stat;
import dev.synod.server.auth.Acls;
import dev.synod.server.auth.Identities;
import dev.synod.txn.v1.NodeRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The write operations on the tree, with ZooKeeper's rules and checks. Each op either throws a
 * {@link SynodException} before changing anything, or changes the tree and appends its changes to
 * the context. Callers decide when to reap emptied containers, commit or roll back.
 *
 * <p>Nothing here reads a setting: size limits (value bytes, path bytes) are the entry server's,
 * checked before the log. Paths are checked for syntax only; kinds, TTLs and ACLs by
 * {@link NodeRules}, against constants.
 */
final class TreeOps {
  /**
   * The ACL of the root, and of a node whose create carries none (only Txns of older versions:
   * the server where a create enters fills in its default-acl): world:anyone:ALL.
   */
  static final Acl WORLD_ANYONE_ALL = Acls.WORLD_ANYONE_ALL;

  private final DataTree tree;

  TreeOps(DataTree tree) {
    this.tree = tree;
  }

  /** One Txn's stamp (zxid and effective time) and what it has done so far. */
  static final class Context {
    final long zxid;
    final long timeMs;
    final long sessionId;
    /** Who asks: the identities the Txn carries; ACLs are checked against them. */
    final Identities who;
    final List<Change> changes = new ArrayList<>();
    /** Containers that lost a child; deleted by {@link #reapContainers} if still empty then. */
    final List<String> emptiedContainers = new ArrayList<>();

    Context(long zxid, long timeMs, long sessionId, Identities who) {
      this.zxid = zxid;
      this.timeMs = timeMs;
      this.sessionId = sessionId;
      this.who = who;
    }
  }

  CreateResponse create(Context ctx, CreateRequest request) throws SynodException {
    String requested = request.getPath();
    boolean sequential = request.getSequential();
    Paths.validateForCreate(requested, sequential);
    NodeRules.checkKindAndTtl(request);
    NodeKind kind = request.getKind();
    if (kind == NodeKind.EPHEMERAL && ctx.sessionId == 0) {
      throw new SynodException(ErrorReason.EPHEMERAL_NEEDS_SESSION,
          "ephemeral node " + requested + " needs a session (open one, and name it in the request)", requested);
    }
    List<Acl> acl = request.getAclCount() == 0 ? List.of(WORLD_ANYONE_ALL) : request.getAclList();
    NodeRules.checkAcl(acl, requested);
    if (!sequential && Paths.ROOT.equals(requested)) {
      throw new SynodException(ErrorReason.NODE_EXISTS, "/ (the root) always exists", requested);
    }
    String parentPath = Paths.ROOT.equals(requested) ? Paths.ROOT : Paths.parent(requested);
    NodeRecord parent = tree.get(parentPath);
    if (parent == null) {
      throw new SynodException(ErrorReason.NO_NODE, "cannot create " + requested + ": its parent " + parentPath + " does not exist", parentPath);
    }
    Acls.check(parent.getAclList(), Acls.CREATE, ctx.who, parentPath);
    acl = Acls.resolve(acl, ctx.who, requested);
    if (parent.getStat().getKind() == NodeKind.EPHEMERAL) {
      throw new SynodException(ErrorReason.NO_CHILDREN_FOR_EPHEMERALS,
          "cannot create " + requested + ": its parent " + parentPath + " is ephemeral, and ephemeral nodes cannot have children", parentPath);
    }
    Stat parentStat = parent.getStat();
    String path = requested;
    if (sequential) {
      // ZooKeeper's rule: the counter is the parent's cversion before this create.
      path = requested + String.format(Locale.ROOT, "%010d", parentStat.getCversion());
      Paths.validate(path);
    }
    if (tree.get(path) != null) {
      throw new SynodException(ErrorReason.NODE_EXISTS, path + " already exists", path);
    }
    tree.quotas().checkCreate(path, request.getData().size());

    Stat stat = Stat.newBuilder()
        .setCzxid(ctx.zxid).setMzxid(ctx.zxid).setPzxid(ctx.zxid)
        .setCtimeMs(ctx.timeMs).setMtimeMs(ctx.timeMs)
        .setEphemeralOwner(kind == NodeKind.EPHEMERAL ? ctx.sessionId : 0)
        .setDataLength(request.getData().size())
        .setKind(kind)
        .setTtlMs(request.getTtlMs())
        .build();
    NodeRecord created = NodeRecord.newBuilder()
        .setData(request.getData()).setStat(stat).addAllAcl(acl).build();
    tree.put(path, created);
    NodeRecord newParent = withStat(parent, parentStat.toBuilder()
        .setCversion(parentStat.getCversion() + 1)
        .setPzxid(ctx.zxid)
        .setNumChildren(parentStat.getNumChildren() + 1));
    tree.put(parentPath, newParent);
    ctx.changes.add(new Change(EventType.NODE_CREATED, path, ctx.zxid, created));
    ctx.changes.add(new Change(EventType.NODE_CHILDREN_CHANGED, parentPath, ctx.zxid, newParent));
    return CreateResponse.newBuilder().setPath(path).setStat(stat).build();
  }

  void delete(Context ctx, DeleteRequest request) throws SynodException {
    String path = request.getPath();
    Paths.validate(path);
    if (Paths.ROOT.equals(path)) {
      throw new SynodException(ErrorReason.BAD_ARGUMENT, "/ (the root) cannot be deleted", path);
    }
    String parentPath = Paths.parent(path);
    NodeRecord parent = tree.get(parentPath);
    if (parent != null) { // else NO_NODE below
      Acls.check(parent.getAclList(), Acls.DELETE, ctx.who, parentPath);
    }
    NodeRecord node = tree.existing(path);
    checkVersion(request.hasVersion(), request.getVersion(), node.getStat().getVersion(), path);
    if (node.getStat().getNumChildren() > 0) {
      throw new SynodException(ErrorReason.NOT_EMPTY,
          path + " has " + node.getStat().getNumChildren() + " children; delete them first", path);
    }
    deleteNode(ctx, path);
  }

  Stat setData(Context ctx, SetDataRequest request) throws SynodException {
    String path = request.getPath();
    Paths.validate(path);
    NodeRecord node = tree.existing(path);
    Acls.check(node.getAclList(), Acls.WRITE, ctx.who, path);
    Stat stat = node.getStat();
    checkVersion(request.hasVersion(), request.getVersion(), stat.getVersion(), path);
    tree.quotas().checkSetData(path, (long) request.getData().size() - node.getData().size());
    Stat newStat = stat.toBuilder()
        .setVersion(stat.getVersion() + 1)
        .setMzxid(ctx.zxid)
        .setMtimeMs(ctx.timeMs)
        .setDataLength(request.getData().size())
        .build();
    NodeRecord updated = node.toBuilder().setData(request.getData()).setStat(newStat).build();
    tree.put(path, updated);
    ctx.changes.add(new Change(EventType.NODE_DATA_CHANGED, path, ctx.zxid, updated));
    return newStat;
  }

  Stat setAcl(Context ctx, SetAclRequest request) throws SynodException {
    String path = request.getPath();
    Paths.validate(path);
    NodeRecord node = tree.existing(path);
    Acls.check(node.getAclList(), Acls.ADMIN, ctx.who, path);
    Stat stat = node.getStat();
    checkVersion(request.hasAversion(), request.getAversion(), stat.getAversion(), path);
    if (request.getAclCount() == 0) {
      throw new SynodException(ErrorReason.INVALID_ACL, "set_acl of " + path + " needs at least one acl entry", path);
    }
    NodeRules.checkAcl(request.getAclList(), path);
    List<Acl> acl = Acls.resolve(request.getAclList(), ctx.who, path);
    Stat newStat = stat.toBuilder().setAversion(stat.getAversion() + 1).build();
    tree.put(path, node.toBuilder().clearAcl().addAllAcl(acl)
        .setStat(newStat).build());
    return newStat; // ZooKeeper fires no watch for an ACL change
  }

  /**
   * Sets (or, all limits zero, removes) the quota of an existing node; ADMIN on it. The usage
   * may already be over the new limits: only later writes that would add to it are refused.
   */
  QuotaUsage setQuota(Context ctx, SetQuotaRequest request) throws SynodException {
    String path = request.getPath();
    Paths.validate(path);
    NodeRecord node = tree.existing(path);
    Acls.check(node.getAclList(), Acls.ADMIN, ctx.who, path);
    Quota q = request.getQuota();
    if (q.getCountHard() < 0 || q.getBytesHard() < 0 || q.getCountSoft() < 0 || q.getBytesSoft() < 0) {
      throw new SynodException(ErrorReason.BAD_ARGUMENT, "quota limits must be >= 0 (0: none)", path);
    }
    boolean none = q.equals(Quota.getDefaultInstance());
    tree.put(path, none ? node.toBuilder().clearQuota().build() : node.toBuilder().setQuota(q).build());
    Quotas.Usage usage = tree.quotas().usage(path);
    return usage == null ? QuotaUsage.getDefaultInstance() : usage.toProto();
  }

  void check(Context ctx, CheckRequest request) throws SynodException {
    String path = request.getPath();
    Paths.validate(path);
    NodeRecord node = tree.existing(path);
    Acls.check(node.getAclList(), Acls.READ, ctx.who, path); // ZooKeeper's check needs READ
    checkVersion(request.hasVersion(), request.getVersion(), node.getStat().getVersion(), path);
  }

  /**
   * Deletes a TTL node if it is still unmodified since {@code mzxid}, childless, and at least
   * ttl_ms old at the Txn's time; otherwise does nothing.
   */
  void expireTtl(Context ctx, String path, long mzxid) {
    NodeRecord node = tree.get(path);
    if (node == null) {
      return;
    }
    Stat stat = node.getStat();
    if (stat.getKind() == NodeKind.TTL && stat.getMzxid() == mzxid && stat.getNumChildren() == 0
        && isExpired(stat, ctx.timeMs)) {
      deleteNode(ctx, path);
    }
  }

  /**
   * Whether a TTL node last touched at mtime has lived its ttl by {@code nowMs} (cluster time). The
   * sum saturates: a deadline past the end of time is never, not long ago.
   */
  static boolean isExpired(Stat ttlStat, long nowMs) {
    return Saturating.add(ttlStat.getMtimeMs(), ttlStat.getTtlMs()) <= nowMs;
  }

  /**
   * Removes an existing childless node, updates its parent and records both events. A container
   * parent left empty is noted for {@link #reapContainers}.
   */
  void deleteNode(Context ctx, String path) {
    List<Acl> acl = tree.get(path).getAclList();
    tree.remove(path);
    String parentPath = Paths.parent(path);
    NodeRecord parent = tree.get(parentPath);
    Stat parentStat = parent.getStat();
    NodeRecord newParent = withStat(parent, parentStat.toBuilder()
        .setCversion(parentStat.getCversion() + 1)
        .setPzxid(ctx.zxid)
        .setNumChildren(parentStat.getNumChildren() - 1));
    tree.put(parentPath, newParent);
    ctx.changes.add(new Change(EventType.NODE_DELETED, path, ctx.zxid, null, acl));
    ctx.changes.add(new Change(EventType.NODE_CHILDREN_CHANGED, parentPath, ctx.zxid, newParent));
    if (parentStat.getKind() == NodeKind.CONTAINER && newParent.getStat().getNumChildren() == 0) {
      ctx.emptiedContainers.add(parentPath);
    }
  }

  /**
   * Deletes every noted container that is still there and still empty, and so on upwards. A
   * container that never had a child is never noted, so it stays.
   */
  void reapContainers(Context ctx) {
    for (int i = 0; i < ctx.emptiedContainers.size(); i++) { // grows as the cascade goes up
      String path = ctx.emptiedContainers.get(i);
      NodeRecord node = tree.get(path);
      if (node != null && node.getStat().getKind() == NodeKind.CONTAINER
          && node.getStat().getNumChildren() == 0) {
        deleteNode(ctx, path);
      }
    }
    ctx.emptiedContainers.clear();
  }

  /** An expected version that is absent or -1 matches any version. */
  private static void checkVersion(boolean present, int expected, int actual, String path)
      throws SynodException {
    if (present && expected != -1 && expected != actual) {
      throw new SynodException(ErrorReason.BAD_VERSION,
          path + " is at version " + actual + ", not the expected " + expected, path);
    }
  }

  private static NodeRecord withStat(NodeRecord node, Stat.Builder stat) {
    return node.toBuilder().setStat(stat).build();
  }
}
