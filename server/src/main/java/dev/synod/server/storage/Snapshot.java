package dev.synod.server.storage;

import dev.synod.txn.v1.NodeRecord;
import dev.synod.txn.v1.SessionRecord;
import java.util.List;
import java.util.SortedMap;

/**
 * A consistent copy of the replicated state as of {@code zxid}: every node by absolute path
 * (the root "/" included) and every live session. Immutable once built; the state machine makes
 * it under its lock and the snapshot store writes it without holding any lock.
 */
public record Snapshot(long zxid, SortedMap<String, NodeRecord> nodes, List<SessionRecord> sessions) {}
