package dev.synod.client.recipes;

import dev.synod.api.v1.Acl;
import dev.synod.client.CreateOptions;
import dev.synod.client.NoAuthException;
import dev.synod.client.NodeExistsException;
import dev.synod.client.SynodClient;
import dev.synod.client.SynodException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/** Path helpers shared by the recipes (package-private). */
final class RecipeNodes {
  /**
   * Pause before a recipe working in the background tries again after a node's ACL refused it:
   * that is a misconfiguration (or an ACL being changed), not a passing failure, so it is retried
   * slowly, each time with a warning, rather than every few milliseconds at FINE.
   */
  static final long NO_AUTH_RETRY_MS = 5_000;

  private RecipeNodes() {}

  /**
   * Logs why background work of a recipe failed and answers how long to wait before retrying:
   * {@code usualMs} for what passes by itself (FINE), {@link #NO_AUTH_RETRY_MS} for an ACL's refusal
   * (WARNING, naming the node, so a recipe given the wrong identity does not spin in silence).
   */
  static long retryDelayMs(Logger log, String what, RuntimeException failure, long usualMs) {
    if (failure instanceof NoAuthException denied) {
      log.warning(() -> what + ": not authorized by the ACL of " + denied.path() + " (" + denied.getMessage()
          + "); retrying every " + NO_AUTH_RETRY_MS + " ms");
      return NO_AUTH_RETRY_MS;
    }
    log.log(Level.FINE, what + " failed; retrying", failure);
    return usualMs;
  }

  /** Rejects what can never be a node path, with a message naming the argument. */
  static String requirePath(String path, String what) {
    if (path == null || !path.startsWith("/") || (path.length() > 1 && path.endsWith("/")) || path.contains("//")) {
      throw new IllegalArgumentException(what + " must be an absolute node path like /app/x, got '" + path + "'");
    }
    return path;
  }

  /** Rejects a child name that is empty or contains '/'. */
  static String requireName(String name, String what) {
    if (name == null || name.isEmpty() || name.indexOf('/') >= 0) {
      throw new IllegalArgumentException(what + " must be a non-empty node name without '/', got '" + name + "'");
    }
    return name;
  }

  static String join(String parent, String child) {
    return parent.equals("/") ? "/" + child : parent + "/" + child;
  }

  static String parentOf(String path) {
    int slash = path.lastIndexOf('/');
    return slash <= 0 ? "/" : path.substring(0, slash);
  }

  static String nameOf(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  /**
   * The ACL a recipe gives the nodes it creates, copied; empty means the server's default ACL
   * ({@code world:anyone:ALL} unless the server says otherwise).
   */
  static List<Acl> requireAcl(List<Acl> acl) {
    // Each entry is looked at because List.of(...).contains(null) throws rather than answer.
    if (acl == null || acl.stream().anyMatch(Objects::isNull)) {
      throw new IllegalArgumentException("acl must be a list of entries (empty: the server's default ACL), got " + acl);
    }
    return List.copyOf(acl);
  }

  /**
   * Creates {@code path} and any missing ancestors as persistent nodes with {@code acl} (existing
   * ones are kept as they are, ACL included).
   */
  static void ensurePath(SynodClient client, String path, List<Acl> acl) {
    if (path.equals("/") || client.exists(path) != null) {
      return;
    }
    ensurePath(client, parentOf(path), acl);
    try {
      client.create(path, new byte[0], CreateOptions.PERSISTENT.withAcl(acl));
    } catch (NodeExistsException raced) {
      // someone else made it
    }
  }

  /** Waits for a future of the client and throws what a synchronous call would. */
  static <T> T await(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      Throwable c = e.getCause();
      while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
        c = c.getCause();
      }
      if (c instanceof RuntimeException r) {
        throw r;
      }
      throw new SynodException(null, String.valueOf(c), null, c);
    }
  }
}
