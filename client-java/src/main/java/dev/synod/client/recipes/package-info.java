/**
 * Lock and leader-election recipes on top of {@link dev.synod.client.SynodClient}: {@link
 * dev.synod.client.recipes.Mutex}, {@link dev.synod.client.recipes.SharedReadWriteLock}, {@link
 * dev.synod.client.recipes.SharedSemaphore}, {@link dev.synod.client.recipes.LeaderLatch} and
 * {@link dev.synod.client.recipes.LeaderSelector}.
 *
 * <p>All of them queue contenders as ephemeral-sequential nodes and make each waiter watch one
 * node only (no herd effect); every ownership carries a fencing token (the creation zxid of the
 * holder's node) and ends by itself on session expiry, deletion of its node, or a suspension
 * outlasting the time the servers confirmed the session for (see
 * {@link dev.synod.client.recipes.Lease}). User callbacks run
 * on one thread per recipe, never on a client or gRPC thread.
 *
 * <p>Every recipe that creates nodes (the locks and elections, the barriers, the queue, the counter,
 * the service registry) has a constructor taking the ACL for them, missing ancestors included;
 * without one (or with an empty list) they get the server's default ACL. Nodes that already exist
 * keep theirs.
 */
package dev.synod.client.recipes;
