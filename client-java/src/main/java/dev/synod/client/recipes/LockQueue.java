package dev.synod.client.recipes;

import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Stat;
import dev.synod.client.ConnectionLossException;
import dev.synod.api.v1.Acl;
import dev.synod.client.CreateOptions;
import dev.synod.client.CreateResult;
import dev.synod.client.NoNodeException;
import dev.synod.client.NodeData;
import dev.synod.client.NodeExistsException;
import dev.synod.client.SessionExpiredException;
import dev.synod.client.SynodClient;
import dev.synod.client.SynodException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A queue of ephemeral-sequential nodes under one parent: the shared machinery of every lock and
 * election recipe. The server's per-parent sequence number orders the contenders (and their
 * creation zxids, the fencing tokens, grow in the same order); a contender waits by watching one
 * node chosen by the recipe, so a release wakes only the contender it concerns.
 */
final class LockQueue {
  private static final Logger LOG = Logger.getLogger(LockQueue.class.getName());
  private static final CreateOptions EPHEMERAL_SEQUENTIAL = CreateOptions.of(NodeKind.EPHEMERAL).sequential();
  private static final CreateOptions CONTAINER = CreateOptions.of(NodeKind.CONTAINER);
  private static final int SEQUENCE_DIGITS = 10;
  /** Pause before re-reading after a request the client gave up on (the connection is unstable). */
  private static final long RETRY_PAUSE_MS = 20;

  /** One contender's node: its name, the recipe prefix it was created with, and its sequence. */
  record Entry(String name, String prefix, long sequence) {}

  /** Told what a waiting contender does (tests check that a release wakes only one waiter). */
  interface WaitObserver {
    WaitObserver NONE = new WaitObserver() {};

    default void watching(String ownNode, String watchedNode) {}

    default void woken(String ownNode) {}
  }

  final SynodClient client;
  final String parent;
  final ClientMonitor monitor;
  private final Set<String> prefixes;
  /** The ACL of the nodes this queue creates (the parent, the contenders); empty: the server's default. */
  private final List<Acl> acl;

  LockQueue(SynodClient client, String parent, Set<String> prefixes) {
    this(client, parent, prefixes, List.of());
  }

  LockQueue(SynodClient client, String parent, Set<String> prefixes, List<Acl> acl) {
    if (client == null) {
      throw new IllegalArgumentException("client is null");
    }
    this.acl = RecipeNodes.requireAcl(acl);
    this.client = client;
    this.parent = validatePath(parent);
    this.prefixes = Set.copyOf(prefixes);
    this.monitor = ClientMonitor.of(client);
  }

  /** Checks a recipe path early, with a clearer message than the server's. */
  static String validatePath(String path) {
    if (path == null || !path.startsWith("/") || path.equals("/") || path.endsWith("/") || path.contains("//")) {
      throw new IllegalArgumentException("a recipe path is absolute, not the root, without a trailing slash "
          + "or empty segments, e.g. /locks/orders; got '" + path + "'");
    }
    return path;
  }

  String pathOf(String name) {
    return parent + "/" + name;
  }

  static String nameOf(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  /** Creates {@code path} and any missing ancestor as container nodes (gone once emptied). */
  static void ensureContainers(SynodClient client, String path, List<Acl> acl) {
    for (int attempt = 0; ; attempt++) {
      try {
        client.create(path, new byte[0], CONTAINER.withAcl(acl));
        return;
      } catch (NodeExistsException e) {
        return;
      } catch (NoNodeException e) {
        int slash = path.lastIndexOf('/');
        if (slash <= 0 || attempt > 100) {
          throw e;
        }
        ensureContainers(client, path.substring(0, slash), acl);
      } catch (ConnectionLossException e) {
        if (attempt > 100) {
          throw e;
        }
        pause(); // a retried create that did apply answers NODE_EXISTS: fine either way
      }
    }
  }

  /**
   * Creates this contender's ephemeral-sequential node {@code parent/prefix<sequence>} holding
   * {@code data}, creating the parent (as a container) when missing.
   *
   * <p>A create whose reply is lost is re-sent by the client with the same request number, so
   * the server applies it once and the reply arrives after the reconnect. Only when the client
   * gives up on the request (sent {@code maxAttempts} times) is the outcome unknown: then the
   * queue is searched for a node of this session holding exactly {@code data} (callers make it
   * unique), so an applied create is adopted rather than left behind as a phantom contender.
   */
  CreateResult create(String prefix, byte[] data) {
    for (int attempt = 0; ; attempt++) {
      try {
        return client.create(pathOf(prefix), data, EPHEMERAL_SEQUENTIAL.withAcl(acl));
      } catch (NoNodeException e) {
        if (attempt > 100) {
          throw e;
        }
        ensureContainers(client, parent, acl); // missing, or a container reaped just now
      } catch (ConnectionLossException e) {
        if (attempt > 100) {
          throw e;
        }
        CreateResult mine = findOwn(prefix, data);
        if (mine != null) {
          return mine;
        }
        pause();
      }
    }
  }

  private CreateResult findOwn(String prefix, byte[] data) {
    long session = client.sessionId();
    for (int attempt = 0; attempt < 100; attempt++) {
      try {
        for (Entry e : entries()) {
          if (!e.prefix().equals(prefix)) {
            continue;
          }
          try {
            NodeData d = client.getData(pathOf(e.name()));
            Stat s = d.stat();
            if (s.getEphemeralOwner() == session && Arrays.equals(d.data(), data)) {
              LOG.fine(() -> "adopted " + e.name() + " created by a request the client had given up on");
              return new CreateResult(pathOf(e.name()), s);
            }
          } catch (NoNodeException gone) {
            // someone else's, released meanwhile
          }
        }
        return null;
      } catch (ConnectionLossException again) {
        pause();
      }
    }
    throw new ConnectionLossException("cannot reach the cluster to find out whether a create under "
        + parent + " applied", null);
  }

  /** This queue's contenders, in sequence order (names of other shapes are ignored). */
  List<Entry> entries() {
    List<String> names;
    try {
      names = client.getChildren(parent);
    } catch (NoNodeException e) {
      return List.of();
    }
    return parse(names);
  }

  /** Parses and sorts child names (names of other shapes are ignored). */
  List<Entry> parse(List<String> names) {
    List<Entry> out = new ArrayList<>(names.size());
    for (String name : names) {
      if (name.length() <= SEQUENCE_DIGITS) {
        continue;
      }
      String prefix = name.substring(0, name.length() - SEQUENCE_DIGITS);
      if (!prefixes.contains(prefix)) {
        continue;
      }
      try {
        out.add(new Entry(name, prefix, Long.parseLong(name.substring(prefix.length()))));
      } catch (NumberFormatException e) {
        // not one of ours
      }
    }
    out.sort(Comparator.comparingLong(Entry::sequence));
    return out;
  }

  static int indexOf(List<Entry> entries, String name) {
    for (int i = 0; i < entries.size(); i++) {
      if (entries.get(i).name().equals(name)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Waits until {@code decide} (given the sorted contenders and this one's index) answers null,
   * meaning this contender holds what it waits for; otherwise it answers the name of the one node
   * to watch, and the wait goes on until that node changes. Returns false at the deadline
   * ({@code deadlineNanos} is a System.nanoTime value; Long.MAX_VALUE waits for ever). The node
   * is not deleted here: callers give it up.
   *
   * @throws SessionExpiredException if the session ends while waiting
   * @throws NoNodeException if the contender's node was deleted by someone else
   */
  boolean awaitTurn(String ownName, long session, Function<WaitView, String> decide, long deadlineNanos,
      WaitObserver observer) throws InterruptedException {
    Wakeup wakeup = new Wakeup();
    ClientMonitor.Subscriber sub = signal -> {
      if (signal == ClientMonitor.Signal.EXPIRED || signal == ClientMonitor.Signal.CLOSED
          || signal == ClientMonitor.Signal.CONNECTED) {
        wakeup.fire();
      }
    };
    monitor.subscribe(sub);
    try {
      while (true) {
        if (client.sessionId() != session) {
          throw new SessionExpiredException("the session that created " + pathOf(ownName) + " ended while waiting");
        }
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
        String watch;
        try {
          List<Entry> all = entries();
          int index = indexOf(all, ownName);
          if (index < 0) {
            throw new NoNodeException("the contender node " + pathOf(ownName) + " was deleted while waiting",
                pathOf(ownName));
          }
          watch = decide.apply(new WaitView(all, index));
          if (watch == null) {
            return true;
          }
          wakeup.reset();
          try {
            client.getData(pathOf(watch), event -> {
              observer.woken(ownName);
              wakeup.fire();
            });
          } catch (NoNodeException gone) {
            continue; // released between the two reads: look again
          }
        } catch (ConnectionLossException e) {
          if (System.nanoTime() - deadlineNanos >= 0) {
            return false;
          }
          pause();
          continue;
        }
        observer.watching(ownName, watch);
        if (!wakeup.await(deadlineNanos)) {
          return false;
        }
      }
    } finally {
      monitor.unsubscribe(sub);
    }
  }

  /** Deletes a node, ignoring that it is gone; retries a request the client gave up on. */
  void deleteQuietly(String path) {
    for (int attempt = 0; attempt < 5; attempt++) {
      try {
        client.delete(path, -1);
        return;
      } catch (NoNodeException | SessionExpiredException gone) {
        return;
      } catch (ConnectionLossException e) {
        pause();
      } catch (SynodException e) {
        LOG.log(Level.WARNING, "could not delete " + path + "; it goes with its session", e);
        return;
      }
    }
    LOG.warning(() -> "could not delete " + path + " (no server answered); it goes with its session");
  }

  /** The contenders as a recipe's decision sees them. */
  record WaitView(List<Entry> entries, int index) {
    Entry self() {
      return entries.get(index);
    }
  }

  private static void pause() {
    try {
      TimeUnit.MILLISECONDS.sleep(RETRY_PAUSE_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A re-armable wake-up flag for one waiting thread. */
  static final class Wakeup {
    private boolean fired;

    synchronized void reset() {
      fired = false;
    }

    synchronized void fire() {
      fired = true;
      notifyAll();
    }

    /** Waits for a fire; false at the deadline. */
    synchronized boolean await(long deadlineNanos) throws InterruptedException {
      while (!fired) {
        if (deadlineNanos == Long.MAX_VALUE) {
          wait();
        } else {
          long left = deadlineNanos - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          TimeUnit.NANOSECONDS.timedWait(this, left);
        }
      }
      return true;
    }
  }
}
