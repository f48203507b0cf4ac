/**
 * Durable storage of a server: its write-ahead log of Paxos acceptor records and state snapshots.
 * Every IOException from this package means disk and memory may no longer agree; the caller stops
 * the server.
 *
 * <h2>On-disk layout</h2>
 *
 * <pre>{@code
 *   <data dir>/LOCK                                  exclusive lock, held while the server runs
 *   <data dir>/log/log-<first index, 20 digits>.seg  write-ahead log segments
 *   <data dir>/snapshots/snapshot-<slot>.db          the newest two snapshots (slot: 20 digits)
 *   <data dir>/snapshots/snapshot-<slot>.db.tmp      a snapshot being written (deleted at start)
 * }</pre>
 *
 * <h2>What the log holds</h2>
 *
 * Each record is a {@code LogEntry}: a promise ({@code promised}: not to accept below a ballot), an
 * accepted value ({@code accepted}: slot, ballot and the slot's value, a {@code TxnBatch}), or a
 * commit mark ({@code committed}: every slot up to this one is decided). Replaying the log in
 * order, the latest record for a slot winning, rebuilds the acceptor state; that is the caller's
 * job, the store only keeps the records. {@code LogEntry.index} numbers the records of this
 * server's log: +1 per record, no gaps, within and across segments; the store assigns it on append.
 * It is neither a slot nor a zxid. Slots number consensus decisions (and name snapshots); zxids
 * number transactions.
 *
 * <h2>Log segments and records</h2>
 *
 * A segment starts with a 16-byte header: magic {@code "SYNL"}, int32 format version (2; version 1
 * held {@code Txn} records and is refused), int64 first index (equal to the one in its name).
 * Records follow, big-endian:
 *
 * <pre>
 *   [int32 payload length][int32 CRC32C of (length field, payload)][payload = LogEntry bytes]
 * </pre>
 *
 * A segment is closed once it reaches {@code segmentBytesMax} (default 64 MiB); it is fsynced
 * before the next is created, and the directory is fsynced after each create. The commit thread
 * appends a batch into a direct buffer and syncs it with one write and one fsync (group commit).
 *
 * <h2>Torn tail versus corruption</h2>
 *
 * Because a segment is synced before the next one starts, only the last segment can hold bytes that
 * a crash cut short. At open:
 *
 * <ul>
 *   <li>a bad record (incomplete, failing its CRC, not a LogEntry) in the last segment with no
 *       valid record after it is a <b>torn tail</b>: it was never acknowledged, so the file is cut
 *       at the last good record, one warning is printed, and the log goes on. The same holds for a
 *       last segment whose header is incomplete: the file is removed.
 *   <li>a bad record followed by a valid one with a higher index (searched byte by byte, since the
 *       bad length cannot be trusted), a bad record or header in any other segment, or missing
 *       indexes are <b>corruption</b> that no crash explains: {@link
 *       dev.synod.server.storage.CorruptLogException} names the file, offset and last good index,
 *       and the server refuses to start rather than forget promises or accepted values it gave.
 * </ul>
 *
 * <h2>Snapshots</h2>
 *
 * A snapshot is the replicated state after applying every slot up to its {@code slot}; its {@code
 * zxid} is the last transaction in it. It is a MapDB file with B-trees {@code nodes} (path to
 * NodeRecord bytes), {@code sessions} (id to SessionRecord bytes) and {@code meta} (format version
 * 2, zxid, slot, counts, CRC32C over all entries in key order); MapDB's own store checksum covers
 * the whole file as well. Loading checks the slot in the meta against the file name. Writing one:
 * write {@code snapshot-S.db.tmp} in one go; close it; fsync it; rename it to {@code
 * snapshot-S.db}; fsync the directory; delete all but the newest two by slot. A crash at any step
 * leaves either the old snapshots or the new one, never a half-written file under a final name. A
 * snapshot below the newest slot is refused, except one installed from the leader, which is written
 * and then pruned like any other (the newest by slot wins).
 *
 * <p>Why not MapDB transactions: in 3.1.0 its write-ahead log is not replayed on reopen, a kill
 * between its WAL fsync and its main-file fsync was seen to corrupt committed data, and it never
 * compacts. So a snapshot file is written once, without transactions, and never updated in place;
 * atomicity comes from the rename. Files are opened through a FileChannel, never mmap.
 *
 * <p>Loading verifies the newest snapshot (MapDB checksum, meta, CRC) and falls back to the one
 * before it if that fails. Writing a snapshot does not truncate the log: the caller calls {@code
 * truncateLogBefore(index)} with the first index it still needs, which deletes whole segments below
 * it (never the current one). To keep the fallback usable, the caller keeps what the second-newest
 * snapshot needs.
 *
 * <p>Threads: interrupting a thread while it is inside this package closes the FileChannel it is
 * using (a property of NIO), which fails the log; stop the commit and snapshot threads with a flag,
 * not an interrupt.
 */
package dev.synod.server.storage;
