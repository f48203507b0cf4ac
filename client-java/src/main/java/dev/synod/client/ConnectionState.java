package dev.synod.client;

/** The client's connection and session state, as reported to {@link ConnectionStateListener}. */
public enum ConnectionState {
  /** A new session was opened. */
  CONNECTED,
  /** The connection was lost; the session may still be alive. Calls wait for a reconnect. */
  SUSPENDED,
  /** Reconnected with the same session: ephemerals and (re-registered) watches are intact. */
  RECONNECTED,
  /** The session is gone: its ephemeral nodes are deleted. Calls fail with SessionExpiredException. */
  EXPIRED,
  /** The client was closed. */
  CLOSED
}
