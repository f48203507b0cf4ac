package dev.synod.server.pipeline;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.ResumeSession;
import dev.synod.server.state.StateMachine;
import dev.synod.server.state.SynodException;

/**
 * Who may use a session on this server: the rules the gRPC services apply, and the simulated
 * clients too (so the simulator runs the real ones).
 */
public final class SessionAccess {
  private SessionAccess() {}

  /** The session, if it exists here and {@code secret} is its secret. */
  public static StateMachine.SessionInfo authenticate(StateMachine state, long sessionId, long secret)
      throws SynodException {
    StateMachine.SessionInfo info = state.session(sessionId).orElseThrow(() -> new SynodException(
        ErrorReason.SESSION_EXPIRED, "session " + Long.toUnsignedString(sessionId)
            + " does not exist (expired or closed)"));
    if (info.secret() != secret) {
      throw new SynodException(ErrorReason.SESSION_SECRET_MISMATCH,
          "wrong secret for session " + Long.toUnsignedString(sessionId));
    }
    return info;
  }

  /**
   * The session a stream resumes, refreshed. A server behind the client is refused first, with
   * SESSION_ZXID_AHEAD, so the client tries another: behind what the client has seen (it must
   * never read older state than it saw), or behind the session's creation (a session's id is the
   * zxid that created it: such a server cannot know the session yet, and SESSION_EXPIRED, which
   * clients take as final, would be wrong; the client's last zxid seen may lag its session id).
   * Then the session must exist here with that secret, and not be being expired.
   */
  public static StateMachine.SessionInfo resume(StateMachine state, SessionTracker tracker,
      ResumeSession request) throws SynodException {
    long lastZxid = state.lastZxid();
    long needed = Math.max(request.getLastZxidSeen(), request.getSessionId());
    if (Long.compareUnsigned(needed, lastZxid) > 0) {
      throw new SynodException(ErrorReason.SESSION_ZXID_AHEAD, "this client has seen zxid "
          + Long.toUnsignedString(needed) + " (its last zxid seen, or its session's creation) but"
          + " this server is at " + lastZxid + "; try another server");
    }
    StateMachine.SessionInfo info = authenticate(state, request.getSessionId(), request.getSecret());
    if (!tracker.touch(info.id())) {
      throw new SynodException(ErrorReason.SESSION_EXPIRED, "session " + info.id() + " is expiring");
    }
    return info;
  }
}
