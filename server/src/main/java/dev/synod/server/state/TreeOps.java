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

  /** The ACL of the system's nodes (under {@link Paths#SYSTEM}): anyone may read them. */
  static final Acl SYSTEM_ACL = Acl.newBuilder().setScheme(Acls.WORLD).setId(Acls.ANYONE)
      .setPerms(Acls.READ).build();

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

    /** The same stamp, acting as the system (super: every ACL grants it everything), no session. */
    Context asSystem() {
      return new Context(zxid, timeMs, 0, Identities.of(List.of(Identities.identity(Acls.SUPER, "synod"))));
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
    Node parent = tree.get(parentPath);
    if (parent == null) {
      throw new SynodException(ErrorReason.NO_NODE, "cannot create " + requested + ": its parent " + parentPath + " does not exist", parentPath);
    }
    Acls.check(parent.acl, Acls.CREATE, ctx.who, parentPath);
    acl = Acls.resolve(acl, ctx.who, requested);
    if (parent.kind() == NodeKind.EPHEMERAL) {
      throw new SynodException(ErrorReason.NO_CHILDREN_FOR_EPHEMERALS,
          "cannot create " + requested + ": its parent " + parentPath + " is ephemeral, and ephemeral nodes cannot have children", parentPath);
    }
    String path = requested;
    if (sequential) {
      // ZooKeeper's rule: the counter is the parent's cversion before this create.
      path = requested + String.format(Locale.ROOT, "%010d", parent.cversion);
      Paths.validate(path);
    }
    if (tree.get(path) != null) {
      throw new SynodException(ErrorReason.NODE_EXISTS, path + " already exists", path);
    }
    if (!Paths.isSystem(path)) {
      // The system's own nodes (the decided membership) are stored whatever a quota says: a
      // membership the tree could not hold would be forgotten at the next restart.
      tree.quotas().checkCreate(path, request.getData().size());
    }

    Node created = new Node(Paths.name(path), ctx.zxid, ctx.zxid, ctx.zxid, ctx.timeMs,
        ctx.timeMs, kind == NodeKind.EPHEMERAL ? ctx.sessionId : 0, request.getTtlMs(), 0, 0, 0, 0,
        kind, request.getData().toByteArray(), tree.internAcl(acl), null);
    tree.put(path, created);
    Node newParent = parent.withChildDelta(1, ctx.zxid);
    tree.put(parentPath, newParent);
    ctx.changes.add(new Change(EventType.NODE_CREATED, path, ctx.zxid, created));
    ctx.changes.add(new Change(EventType.NODE_CHILDREN_CHANGED, parentPath, ctx.zxid, newParent));
    return CreateResponse.newBuilder().setPath(path).setStat(created.stat()).build();
  }

  /**
   * Creates {@code path} (persistent, readable by anyone, writable by no one but the system) or
   * sets its data and ACL to those, whatever they were. The parent must exist.
   */
  void putSystemNode(Context ctx, String path, com.google.protobuf.ByteString data) throws SynodException {
    Node node = tree.get(path);
    if (node == null) {
      create(ctx, CreateRequest.newBuilder().setPath(path).setData(data).addAcl(SYSTEM_ACL).build());
      return;
    }
    if (node.kind() != NodeKind.PERSISTENT) {
      throw new SynodException(ErrorReason.BAD_ARGUMENT, path + " is reserved for the system, but a client"
          + " made it a " + node.kind() + " node: delete it so the membership can be stored", path);
    }
    if (!node.acl.equals(List.of(SYSTEM_ACL))) {
      node = node.withAcl(tree.internAcl(List.of(SYSTEM_ACL)));
      tree.put(path, node);
    }
    if (!data.equals(node.data())) {
      setData(ctx, SetDataRequest.newBuilder().setPath(path).setData(data).build());
    }
  }

  void delete(Context ctx, DeleteRequest request) throws SynodException {
    String path = request.getPath();
    Paths.validate(path);
    if (Paths.ROOT.equals(path)) {
      throw new SynodException(ErrorReason.BAD_ARGUMENT, "/ (the root) cannot be deleted", path);
    }
    String parentPath = Paths.parent(path);
    Node parent = tree.get(parentPath);
    if (parent != null) { // else NO_NODE below
      Acls.check(parent.acl, Acls.DELETE, ctx.who, parentPath);
    }
    Node node = tree.existing(path);
    checkVersion(request.hasVersion(), request.getVersion(), node.version, path);
    if (node.numChildren > 0) {
      throw new SynodException(ErrorReason.NOT_EMPTY,
          path + " has " + node.numChildren + " children; delete them first", path);
    }
    deleteNode(ctx, path);
  }

  Stat setData(Context ctx, SetDataRequest request) throws SynodException {
    String path = request.getPath();
    Paths.validate(path);
    Node node = tree.existing(path);
    Acls.check(node.acl, Acls.WRITE, ctx.who, path);
    checkVersion(request.hasVersion(), request.getVersion(), node.version, path);
    if (!Paths.isSystem(path)) {
      tree.quotas().checkSetData(path, (long) request.getData().size() - node.dataLength());
    }
    Node updated = node.withData(request.getData().toByteArray(), ctx.zxid, ctx.timeMs);
    tree.put(path, updated);
    ctx.changes.add(new Change(EventType.NODE_DATA_CHANGED, path, ctx.zxid, updated));
    return updated.stat();
  }

  Stat setAcl(Context ctx, SetAclRequest request) throws SynodException {
    String path = request.getPath();
    Paths.validate(path);
    Node node = tree.existing(path);
    Acls.check(node.acl, Acls.ADMIN, ctx.who, path);
    checkVersion(request.hasAversion(), request.getAversion(), node.aversion, path);
    if (request.getAclCount() == 0) {
      throw new SynodException(ErrorReason.INVALID_ACL, "set_acl of " + path + " needs at least one acl entry", path);
    }
    NodeRules.checkAcl(request.getAclList(), path);
    List<Acl> acl = Acls.resolve(request.getAclList(), ctx.who, path);
    Node updated = node.withAcl(tree.internAcl(acl));
    tree.put(path, updated);
    return updated.stat(); // ZooKeeper fires no watch for an ACL change
  }

  /**
   * Sets (or, all limits zero, removes) the quota of an existing node; ADMIN on it. The usage
   * may already be over the new limits: only later writes that would add to it are refused.
   */
  QuotaUsage setQuota(Context ctx, SetQuotaRequest request) throws SynodException {
    String path = request.getPath();
    Paths.validate(path);
    Node node = tree.existing(path);
    Acls.check(node.acl, Acls.ADMIN, ctx.who, path);
    Quota q = request.getQuota();
    if (q.getCountHard() < 0 || q.getBytesHard() < 0 || q.getCountSoft() < 0 || q.getBytesSoft() < 0) {
      throw new SynodException(ErrorReason.BAD_ARGUMENT, "quota limits must be >= 0 (0: none)", path);
    }
    boolean none = q.equals(Quota.getDefaultInstance());
    tree.put(path, node.withQuota(none ? null : q));
    Quotas.Usage usage = tree.quotas().usage(path);
    return usage == null ? QuotaUsage.getDefaultInstance() : usage.toProto();
  }

  void check(Context ctx, CheckRequest request) throws SynodException {
    String path = request.getPath();
    Paths.validate(path);
    Node node = tree.existing(path);
    Acls.check(node.acl, Acls.READ, ctx.who, path); // ZooKeeper's check needs READ
    checkVersion(request.hasVersion(), request.getVersion(), node.version, path);
  }

  /**
   * Deletes a TTL node if it is still unmodified since {@code mzxid}, childless, and at least
   * ttl_ms old at the Txn's time; otherwise does nothing.
   */
  void expireTtl(Context ctx, String path, long mzxid) {
    Node node = tree.get(path);
    if (node == null) {
      return;
    }
    if (node.kind() == NodeKind.TTL && node.mzxid == mzxid && node.numChildren == 0
        && isExpired(node, ctx.timeMs)) {
      deleteNode(ctx, path);
    }
  }

  /**
   * Whether a TTL node last touched at mtime has lived its ttl by {@code nowMs} (cluster time). The
   * sum saturates: a deadline past the end of time is never, not long ago.
   */
  static boolean isExpired(Node ttlNode, long nowMs) {
    return Saturating.add(ttlNode.mtimeMs, ttlNode.ttlMs) <= nowMs;
  }

  /**
   * Removes an existing childless node, updates its parent and records both events. A container
   * parent left empty is noted for {@link #reapContainers}.
   */
  void deleteNode(Context ctx, String path) {
    List<Acl> acl = tree.get(path).acl;
    tree.remove(path);
    String parentPath = Paths.parent(path);
    Node parent = tree.get(parentPath);
    Node newParent = parent.withChildDelta(-1, ctx.zxid);
    tree.put(parentPath, newParent);
    ctx.changes.add(new Change(EventType.NODE_DELETED, path, ctx.zxid, null, acl));
    ctx.changes.add(new Change(EventType.NODE_CHILDREN_CHANGED, parentPath, ctx.zxid, newParent));
    if (parent.kind() == NodeKind.CONTAINER && newParent.numChildren == 0) {
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
      Node node = tree.get(path);
      if (node != null && node.kind() == NodeKind.CONTAINER && node.numChildren == 0) {
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

}
