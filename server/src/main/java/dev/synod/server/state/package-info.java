/**
 * The replicated state machine: the ZooKeeper-style data tree, the session table, watches and
 * the deterministic apply of transactions. {@link dev.synod.server.state.StateMachine} is the
 * entry point.
 *
 * <h2>The apply contract</h2>
 * <ul>
 *   <li><b>Determinism.</b> Every replica applies the same Txns in zxid order and must reach the
 *       same state, results and events. Apply is a pure function of (state, Txn): identities,
 *       secrets and a session's dedup window come from the Txn; no clock, no randomness, and no
 *       local configuration at all. Per-request limits (value size, path length) are the settings
 *       of the server where a request enters, checked there before the log; the limits apply
 *       itself enforces are constants ({@link dev.synod.server.state.ReplicatedLimits}); {@link
 *       dev.synod.server.state.StateLimits} bounds local state only (watches, history, pages).
 *       Wherever order is observable (children, ephemerals, sessions, watcher dispatch) the
 *       structures are sorted, so hash iteration order never leaks. Sequential names are
 *       formatted with {@code Locale.ROOT}.
 *   <li><b>Time never goes back.</b> A Txn takes effect at max(decided time so far, its stamped
 *       {@code time_ms}); ctime, mtime and TTL expiry use that effective time. The decided time
 *       is replicated state and goes in snapshots. (The leader stamps cluster time, which
 *       advances with elapsed time: see {@code pipeline.ClusterTime}.)
 *   <li><b>Results, not exceptions.</b> An expected failure (bad version, missing node, ...) is a
 *       Response with {@code error} set and leaves the state unchanged; every Txn, failed or
 *       deduplicated, advances the zxid by one (and is a Txn whose time counts). An exception out of apply is a bug.
 *   <li><b>All or nothing.</b> A multi applies its ops in order against the real tree with an
 *       undo log; on the first failure the tree is rolled back and no event is dispatched. A
 *       failed multi's Response carries {@code error} (see {@link
 *       dev.synod.server.state.MultiFailure}).
 *   <li><b>Retries take effect once.</b> A session's write with a request number at or below its
 *       last applied one returns the cached original Response if it is the same write (its digest
 *       is kept beside the result), REQUEST_NO_REUSED if it is a different one, and
 *       REQUEST_TOO_OLD once the number left the window; the cache is replicated state and goes
 *       in snapshots.
 * </ul>
 *
 * <h2>Locking and ordering</h2>
 * One read-write lock. {@code apply} holds the write lock while it changes the state, records
 * the changes in the event history, journals each change once for the watch fan-out, gives the
 * writing session its own pending events, ends a closed session, and only then hands over the
 * Response. The per-watcher fan-out (a million one-shot watches on one multi is seconds of work)
 * runs after the lock is released, on an executor of its own, so it holds up neither that write's
 * acknowledgement nor the next write. Reads hold the read lock while they hand the reader its
 * pending events and then compute and hand over their Response. So a client sees a change's watch
 * event before any response that shows the change (ZooKeeper's guarantee), whichever of the
 * fan-out and its own pull delivered it. A watch registered by a read cannot miss a change: the
 * change happens either before the read (and the read shows it; the registration is never fired
 * by it, even if the fan-out reaches the change later) or after the registration (and fires it).
 * Watch registrations happen under the read lock from several threads; the watch manager
 * synchronizes itself (see {@link dev.synod.server.state.WatchManager}).
 *
 * <p>The {@link dev.synod.server.state.WatchDispatcher} is called under locks (the state's, the
 * watch registry's), so it must only enqueue, and it must be safe to call from several threads at
 * once.
 *
 * <h2>Memory</h2>
 * A tree of millions of nodes must fit in a few GiB, so a node ({@link
 * dev.synod.server.state.Node}) holds primitive stat fields, its value as an array, its name (not
 * its path) and a shared ACL ({@link dev.synod.server.state.AclTable}); only nodes with children
 * have a child set, a sorted array until it grows large ({@link
 * dev.synod.server.state.Children}). Paths are walked, not hashed. Protobuf messages (Stat,
 * NodeRecord) are built at the edge: answers, events, snapshots. Nodes are immutable (a change
 * makes a new one), which is what lets a snapshot capture references to them in path order
 * under the lock and build its records afterwards ({@link dev.synod.server.state.TreeCapture}),
 * and lets a load decode records straight into nodes ({@link
 * dev.synod.server.state.NodeDecoder}).
 *
 * <p>Replicated state (tree, sessions, dedup results, decided time) is in {@link
 * dev.synod.server.storage.Snapshot}s; watches and the event history are local and are rebuilt
 * by clients and by replaying the log after the snapshot.
 */
package dev.synod.server.state;
