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
 *   <data dir>/snapshots/incoming-snapshot-<slot>.db.tmp  a leader's snapshot being copied here
 *                                                    (deleted at start)
 *   <data dir>/snapshots/snapshot-<slot>.db.damaged  one that failed verification, set aside
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
 * A segment starts with a 16-byte header: magic {@code "SYNL"}, int32 format version, int64 first
 * index (equal to the one in its name). Records follow, big-endian; in formats 3 and 4 (4 is
 * written today, the same records in a preallocated file):
 *
 * <pre>
 *   [int32 payload length][int32 CRC32C of (length, group start, payload)]
 *   [int64 group start][payload = LogEntry bytes]
 * </pre>
 *
 * A <i>group</i> is everything written between two fsyncs (one group commit); its group start is
 * the index of its first record, and the segment header belongs to the group of the segment's first
 * record. Format 2 records had no group start ({@code [length][CRC32C of (length,
 * payload)][payload]}); format-2 segments are still read, never appended to (the first append after
 * opening such a log starts a new segment). Format 1 held {@code Txn} records and is refused with a
 * message naming the file and version, as is a format newer than this code.
 *
 * <p>A segment is closed once it reaches {@code segmentBytesMax} (default 64 MiB); it is fsynced
 * before the next is created, and the directory is fsynced after each create. The commit thread
 * appends a batch into a direct buffer and syncs it with one write and one fsync (group commit).
 * Opening the log fsyncs its last segment, so a group starts only once every group before it is
 * durable, in this process or the one before.
 *
 * <h2>Torn write versus corruption</h2>
 *
 * Only the final group can have been cut short by a crash, and a crash may keep any of its pages,
 * in any order (the kernel writes dirty pages back as it likes). At open:
 *
 * <ul>
 *   <li>a bad record (incomplete, failing its CRC, not a LogEntry) in the last segment is a <b>torn
 *       write</b> when every valid record after it (searched byte by byte, since the bad length
 *       cannot be trusted) belongs to one group that began at or before the bad record: that group
 *       is the final one, it was never synced, so nothing in it was acknowledged. The file is cut
 *       at the bad record, one warning is printed, and the log goes on. A last segment whose header
 *       is bad, followed by nothing but records of the segment's first group, is removed the same
 *       way. In format 2, which cannot tell groups apart, only a bad record with nothing valid
 *       after it is torn.
 *   <li>a bad record followed by a record of a later group (which began only once the bad record
 *       was synced), a bad record or header in any other segment, records whose group starts do not
 *       fit, or missing indexes are <b>corruption</b> that no crash explains: {@link
 *       dev.synod.server.storage.CorruptLogException} names the file, offset and last good index,
 *       and the server refuses to start rather than forget promises or accepted values it gave.
 * </ul>
 *
 * <p>Preallocation (format 4): a segment file is made {@code segmentBytesMax} long, zeros, when
 * it is created or first opened for appends, and that size is fsynced; the fsync of each group is
 * then an fdatasync that writes data only. Zeros from the end of the last valid record to the end
 * of a format-4 file are the end of the segment, in any segment: no cut, no warning. A torn write
 * in that area leaves something other than zeros after the bad spot and is judged as above; a last
 * segment that is all zeros (created and preallocated, its first write lost) is removed. A
 * finished segment that lost its last records to zeros is caught by the next segment's first
 * index ("records are missing").
 *
 * <p>The limit of this rule: damage to the final group after it was synced (a bad sector in the
 * last write before a clean stop) looks exactly like a torn write and is cut off as one. No format
 * can tell the two apart without a second fsync per group; the loss is bounded by one group.
 *
 * <h2>Snapshots</h2>
 *
 * A snapshot is the replicated state after applying every slot up to its {@code slot}; its {@code
 * zxid} is the last transaction in it. It is a MapDB file (format version 3) with B-trees {@code
 * nodeChunks} (chunk number to about 48 KiB of consecutive nodes in path order, each a path and
 * its NodeRecord bytes), {@code sessions} (id to SessionRecord bytes) and {@code meta} (format
 * version, zxid, slot, counts, CRC32C over all entries in key order). MapDB's own store checksum
 * is off: it cost more than all the rest of a load (see docs/benchmarks.md, "Scale"), and the
 * CRC32C already covers every node and session. Version 2 files (one {@code nodes} entry per
 * node, with MapDB's checksum) are still read.
 * Loading checks the slot in the meta against the file name. Writing one:
 * write {@code snapshot-S.db.tmp} in one go; close it; fsync it; rename it to {@code
 * snapshot-S.db}; fsync the directory; delete all but the newest two by slot. A crash at any step
 * leaves either the old snapshots or the new one, never a half-written file under a final name. A
 * snapshot whose slot is not above the newest on disk (a server's own snapshot that finished after
 * a newer one arrived from the leader, say) adds nothing: writing it, or installing it, does
 * nothing and returns false.
 *
 * <p>A snapshot received from the leader arrives as a byte-for-byte copy of the leader's file,
 * written to {@code incoming-snapshot-S.db.tmp} piece by piece by the replication package; {@code
 * installReceived} then verifies it exactly as a load does (a copy that fails is deleted and
 * reported as {@link dev.synod.server.storage.CorruptSnapshotException}, not as a disk failure),
 * fsyncs it, renames it to {@code snapshot-S.db}, fsyncs the directory and prunes, as a write does.
 *
 * <p>Why not MapDB transactions: in 3.1.0 its write-ahead log is not replayed on reopen, a kill
 * between its WAL fsync and its main-file fsync was seen to corrupt committed data, and it never
 * compacts. So a snapshot file is written once, without transactions, and never updated in place;
 * atomicity comes from the rename. Files are opened through a FileChannel, never mmap.
 *
 * <p>Loading verifies the newest snapshot (meta, CRC) and falls back to the one
 * before it if that fails; the damaged one is then renamed to {@code snapshot-S.db.damaged} (kept
 * for the operator), so that it neither blocks the snapshots that follow, which are below its slot,
 * nor outlives the valid one as one of the two kept. Writing a snapshot does not truncate the log:
 * the caller calls {@code truncateLogBefore(index)} with the first index it still needs, which
 * deletes whole segments below it (never the current one). To keep the fallback usable, the caller
 * keeps what the second-newest snapshot needs.
 *
 * <h2>The disk</h2>
 *
 * Every file operation goes through {@link dev.synod.server.storage.Disk}: {@code Disk.REAL} in
 * production (plain java.nio, FileChannel, no mmap), or a simulated disk that loses unsynced
 * writes, tears and reorders multi-page writes and fails fsync, under the real stores.
 *
 * <p>Threads: interrupting a thread while it is inside this package closes the FileChannel it is
 * using (a property of NIO), which fails the log; stop the commit and snapshot threads with a flag,
 * not an interrupt.
 */
package dev.synod.server.storage;
