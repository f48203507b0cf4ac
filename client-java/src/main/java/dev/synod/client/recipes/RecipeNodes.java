package dev.synod.client.recipes;

import dev.synod.client.NodeExistsException;
import dev.synod.client.SynodClient;
import dev.synod.client.SynodException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Path helpers shared by the recipes (package-private). */
final class RecipeNodes {
  private RecipeNodes() {}

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

  /** Creates {@code path} and any missing ancestors as persistent nodes (existing ones are kept). */
  static void ensurePath(SynodClient client, String path) {
    if (path.equals("/") || client.exists(path) != null) {
      return;
    }
    ensurePath(client, parentOf(path));
    try {
      client.create(path, new byte[0]);
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
