package dev.synod.client.recipes;

import dev.synod.api.v1.Acl;
import dev.synod.api.v1.NodeKind;
import dev.synod.client.CreateOptions;
import dev.synod.client.NoNodeException;
import dev.synod.client.NodeExistsException;
import dev.synod.client.SynodClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A double barrier: {@code memberCount} participants {@link #enter(Duration) enter} together (no one
 * gets past enter until all have arrived) and {@link #leave(Duration) leave} together (no one gets
 * past leave until all have left). Each participant is an ephemeral node under the barrier path,
 * so a crashed participant's slot goes away with its session; the participant that completes the
 * count creates a {@code ready} node that releases the others.
 *
 * <p>No polling: enter waits on an exists-watch of {@code ready}; leave uses the classic ordering
 * (the lowest member waits for the highest, everyone else removes itself and waits for the
 * lowest), so each waiter watches one node. The last one out removes {@code ready}, so the barrier
 * can be used again once every participant has left.
 */
public final class DoubleBarrier {
  static final String READY = "ready";

  private final SynodClient client;
  private final String path;
  private final int memberCount;
  private final String memberName;
  private final String memberPath;
  private final List<Acl> acl;

  /** A participant with a random id. */
  public DoubleBarrier(SynodClient client, String barrierPath, int memberCount) {
    this(client, barrierPath, memberCount, UUID.randomUUID().toString());
  }

  /** A participant named {@code memberId} (unique among the participants; not "ready"). */
  public DoubleBarrier(SynodClient client, String barrierPath, int memberCount, String memberId) {
    this(client, barrierPath, memberCount, memberId, List.of());
  }

  /** A participant with a random id whose nodes get {@code acl} (see the five-argument constructor). */
  public DoubleBarrier(SynodClient client, String barrierPath, int memberCount, List<Acl> acl) {
    this(client, barrierPath, memberCount, UUID.randomUUID().toString(), acl);
  }

  /**
   * A participant named {@code memberId} whose nodes (the barrier node and any missing ancestor,
   * when this creates them, its member node, the ready node) get {@code acl} (empty: the server's
   * default ACL). Every participant needs READ, CREATE and DELETE on the barrier node.
   */
  public DoubleBarrier(SynodClient client, String barrierPath, int memberCount, String memberId, List<Acl> acl) {
    if (client == null) {
      throw new IllegalArgumentException("client must not be null");
    }
    if (memberCount < 1) {
      throw new IllegalArgumentException("memberCount must be >= 1, got " + memberCount);
    }
    RecipeNodes.requireName(memberId, "memberId");
    if (memberId.equals(READY)) {
      throw new IllegalArgumentException("memberId must not be '" + READY + "'");
    }
    this.client = client;
    this.path = RecipeNodes.requirePath(barrierPath, "barrierPath");
    this.memberCount = memberCount;
    this.memberName = memberId;
    this.memberPath = RecipeNodes.join(path, memberId);
    this.acl = RecipeNodes.requireAcl(acl);
  }

  /** Enters and blocks until all {@code memberCount} participants have entered. */
  public void enter() throws InterruptedException {
    enter(null);
  }

  /**
   * Enters and blocks until all participants have entered or {@code timeout} passes (null: no
   * limit). On timeout this participant stays entered; call {@link #leave} to withdraw.
   *
   * @return true once everyone is in, false on timeout
   */
  public boolean enter(Duration timeout) throws InterruptedException {
    long deadline = Wakeup.deadline(timeout);
    RecipeNodes.ensurePath(client, path, acl);
    String readyPath = RecipeNodes.join(path, READY);
    try (Wakeup wakeup = new Wakeup(client)) {
      while (true) {
        // (Re-)create the member node: it is ephemeral, so after an expiry (with
        // reconnectAfterExpiry) it has to be made again by the new session.
        try {
          client.create(memberPath, new byte[0], CreateOptions.of(NodeKind.EPHEMERAL).withAcl(acl));
        } catch (NodeExistsException ours) {
          // made earlier in this call (or a retried create was applied)
        }
        if (client.exists(readyPath, wakeup) != null) {
          return true;
        }
        if (members().size() >= memberCount) {
          try {
            client.create(readyPath, new byte[0], CreateOptions.PERSISTENT.withAcl(acl));
          } catch (NodeExistsException raced) {
            // another participant completed the count at the same time
          }
          return true;
        }
        if (!wakeup.await(deadline)) {
          return false;
        }
      }
    }
  }

  /** Leaves and blocks until every participant has left. */
  public void leave() throws InterruptedException {
    leave(null);
  }

  /**
   * Leaves and blocks until every participant has left or {@code timeout} passes (null: no limit).
   *
   * @return true once everyone is out, false on timeout
   */
  public boolean leave(Duration timeout) throws InterruptedException {
    long deadline = Wakeup.deadline(timeout);
    try (Wakeup wakeup = new Wakeup(client)) {
      while (true) {
        List<String> members = members();
        if (members.isEmpty()) {
          deleteQuietly(RecipeNodes.join(path, READY));
          return true;
        }
        boolean present = members.contains(memberName);
        String lowest = members.get(0);
        String highest = members.get(members.size() - 1);
        String watch;
        if (present && members.size() == 1) {
          // The last one out: lower the ready flag first, so a new round cannot slip through.
          deleteQuietly(RecipeNodes.join(path, READY));
          deleteQuietly(memberPath);
          return true;
        } else if (present && lowest.equals(memberName)) {
          watch = highest;
        } else {
          if (present) {
            deleteQuietly(memberPath);
          }
          watch = lowest.equals(memberName) ? highest : lowest;
        }
        if (client.exists(RecipeNodes.join(path, watch), wakeup) == null) {
          continue; // gone already: look again
        }
        if (!wakeup.await(deadline)) {
          return false;
        }
      }
    }
  }

  /** The current participants' ids, sorted. */
  public List<String> members() {
    List<String> names;
    try {
      names = client.getChildren(path);
    } catch (NoNodeException none) {
      return List.of();
    }
    List<String> members = new ArrayList<>(names.size());
    for (String n : names) {
      if (!n.equals(READY)) {
        members.add(n);
      }
    }
    members.sort(null);
    return members;
  }

  private void deleteQuietly(String node) {
    try {
      client.delete(node, -1);
    } catch (NoNodeException gone) {
      // already gone
    }
  }

  public String memberId() {
    return memberName;
  }
}
