package dev.synod.client;

import dev.synod.api.v1.EventType;
import dev.synod.api.v1.Stat;

/**
 * A change a watch fired for. {@code data} is set only for persistent watches that asked for it
 * (else null); {@code stat} is null after a delete. For RESYNC_NEEDED, {@code zxid} is the oldest
 * zxid the server can resume from: re-read the state and watch again.
 */
public record WatchedEvent(EventType type, String path, long zxid, byte[] data, Stat stat) {}
