/**
 * Durable storage of the server: the transaction log and data-tree snapshots. Every IOException
 * from this package means disk and memory may no longer agree; the caller stops the server.
 *
 * <h2>On-disk layout</h2>
 *
 * <pre>{@code
 *   <data dir>/LOCK                                 exclusive lock, held while the server runs
 *   <data dir>/log/log-<first zxid, 20 digits>.seg  transaction log segments
 *   <data dir>/snapshots/snapshot-<zxid>.db         the newest two snapshots (zxid: 20 digits)
 *   <data dir>/snapshots/snapshot-<zxid>.db.tmp     a snapshot being written (deleted at start)
 * }</pre>
 *
 * <h2>Log segments and records</h2>
 *
 * A segment starts with a 16-byte header: magic {@code "SYNL"}, int32 format version (1), int64
 * first zxid (equal to the one in its name). Records follow, big-endian:
 *
 * <pre>
 *   [int32 payload length][int32 CRC32C of (length field, payload)][payload = Txn bytes]
 * </pre>
 *
 * Zxids run +1 per record within and across segments. A segment is closed once it reaches {@code
 * segmentBytesMax} (default 64 MiB); it is fsynced before the next is created, and the directory is
 * fsynced after each create. The commit thread appends a batch into a direct buffer and syncs it
 * with one write and one fsync (group commit).
 *
 * <h2>Torn tail versus corruption</h2>
 *
 * Because a segment is synced before the next one starts, only the last segment can hold bytes that
 * a crash cut short. At open:
 *
 * <ul>
 *   <li>a bad record (incomplete, failing its CRC, not a Txn) in the last segment with no valid
 *       record after it is a <b>torn tail</b>: it was never acknowledged, so the file is cut at the
 *       last good record, one warning is printed, and the log goes on. The same holds for a last
 *       segment whose header is incomplete: the file is removed.
 *   <li>a bad record followed by a valid one with a higher zxid (searched byte by byte, since the
 *       bad length cannot be trusted), a bad record or header in any other segment, or missing
 *       zxids are <b>corruption</b> that no crash explains: {@link
 *       dev.synod.server.storage.CorruptLogException} names the file, offset and last good zxid,
 *       and the server refuses to start rather than serve a state without committed writes.
 * </ul>
 *
 * <h2>Snapshots</h2>
 *
 * A snapshot is a MapDB file with B-trees {@code nodes} (path to NodeRecord bytes), {@code
 * sessions} (id to SessionRecord bytes) and {@code meta} (format version, zxid, counts, CRC32C over
 * all entries in key order); MapDB's own store checksum covers the whole file as well. Writing one:
 * write {@code snapshot-Z.db.tmp} in one go; close it; fsync it; rename it to {@code
 * snapshot-Z.db}; fsync the directory; delete all but the newest two. A crash at any step leaves
 * either the old snapshots or the new one, never a half-written file under a final name.
 *
 * <p>Why not MapDB transactions: in 3.1.0 its write-ahead log is not replayed on reopen, a kill
 * between its WAL fsync and its main-file fsync was seen to corrupt committed data, and it never
 * compacts. So a snapshot file is written once, without transactions, and never updated in place;
 * atomicity comes from the rename. Files are opened through a FileChannel, never mmap.
 *
 * <p>Loading verifies the newest snapshot (MapDB checksum, meta, CRC) and falls back to the one
 * before it if that fails. The log is truncated only below the second-newest snapshot, so the
 * fallback always finds the log it needs. Recovery is: state = newest valid snapshot (or empty),
 * then replay the log after its zxid.
 *
 * <p>Threads: interrupting a thread while it is inside this package closes the FileChannel it is
 * using (a property of NIO), which fails the log; stop the commit and snapshot threads with a flag,
 * not an interrupt.
 */
package dev.synod.server.storage;
