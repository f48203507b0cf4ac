package dev.synod.bench;

/**
 * One client of the system under test: a session for Synod and ZooKeeper, a lease-holding user of
 * a shared gRPC channel for etcd. Keys are absolute paths ({@code /bench/keys/k7}); etcd uses them
 * as flat keys. Every call blocks until the system answers, so a client has one request in flight.
 */
public interface Session extends AutoCloseable {
  /** Creates {@code path} (and, for tree stores, nothing else) with {@code value} unless it exists. */
  void createIfAbsent(String path, byte[] value) throws Exception;

  /** Replaces the value of an existing key. */
  void put(String path, byte[] value) throws Exception;

  /** Reads a key the way the system serves reads by default to a session (see each driver). */
  byte[] get(String path) throws Exception;

  /**
   * Reads a key linearizably: the answer reflects every write acknowledged before the call
   * (Synod: the read's linearizable flag; ZooKeeper: sync, then the read, as its users must;
   * etcd: a default, linearizable Range).
   */
  byte[] getLinearizable(String path) throws Exception;

  /**
   * Creates a node under {@code parent} that is deleted when this session ends and whose name orders
   * it after earlier ones; returns its full path.
   */
  String createEphemeralSequential(String parent, byte[] value) throws Exception;

  /** Deletes a key whatever its version. */
  void delete(String path) throws Exception;

  /**
   * Watches {@code path} for changes until the returned handle is closed; {@code onChange} runs on
   * the client's event thread once per change, as soon as the event arrives.
   */
  AutoCloseable watch(String path, Runnable onChange) throws Exception;

  /** A mutual-exclusion lock at {@code path} held by this session (the system's standard recipe). */
  BenchLock lock(String path) throws Exception;

  /** Ends the session (its ephemeral nodes and locks go with it). */
  @Override
  void close() throws Exception;

  /** A lock as the workload uses it. */
  interface BenchLock {
    /** Blocks until this session holds the lock. */
    void acquire() throws Exception;

    /** Gives the lock up. */
    void release() throws Exception;
  }
}
