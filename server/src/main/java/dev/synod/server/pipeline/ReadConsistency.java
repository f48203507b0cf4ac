package dev.synod.server.pipeline;

import dev.synod.api.v1.Request;

/**
 * Which reads must be linearizable: those that set the {@code linearizable} flag. They are served
 * behind a read barrier (the same one as {@code Sync}); the others straight from this member's
 * state, sequentially consistent per session.
 */
public final class ReadConsistency {
  private ReadConsistency() {}

  public static boolean linearizable(Request request) {
    return switch (request.getOpCase()) {
      case GET_DATA -> request.getGetData().getLinearizable();
      case EXISTS -> request.getExists().getLinearizable();
      case GET_CHILDREN -> request.getGetChildren().getLinearizable();
      default -> false;
    };
  }
}
