package dev.synod.server.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.server.storage.Disk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.mapdb.volume.SingleByteArrayVol;
import org.mapdb.volume.Volume;

/**
 * The simulated disk itself: what a power loss does to unsynced writes, and the MapDB volume it
 * gives the snapshot store (which must hold bytes exactly as MapDB's own volumes do). The stores
 * over it are tested in {@code DurableStoreSimulatedDiskTest}.
 */
class SimulatedDiskTest {
  private static final Path DIR = Path.of("/sim");
  private static final Path FILE = DIR.resolve("f");
  private static final int SECTOR = SimulatedDisk.SECTOR_BYTES;

  /**
   * Each unsynced sector is kept or lost whole and on its own: a write across several sectors
   * and pages comes back as a mix of old and new sectors, later ones sometimes kept where earlier
   * ones were lost, and nothing else.
   */
  @Test
  void aPowerLossKeepsOrLosesEachUnsyncedSectorWhole() throws IOException {
    byte[] before = pattern(3 * SimulatedDisk.PAGE_BYTES, 1);
    int writeAt = 100;
    byte[] written = pattern(5_000, 2);
    byte[] after = before.clone();
    System.arraycopy(written, 0, after, writeAt, written.length);
    int reordered = 0;
    for (long seed = 1; seed <= 40; seed++) {
      SimulatedDisk disk = new SimulatedDisk(seed, SECTOR);
      disk.createDirectories(DIR);
      try (Disk.DiskFile f = disk.create(FILE)) {
        f.write(ByteBuffer.wrap(before));
        f.force();
      }
      disk.fsyncDirectory(DIR);
      try (Disk.DiskFile f = disk.openForWrite(FILE, writeAt)) {
        f.write(ByteBuffer.wrap(written)); // not synced
      }
      disk.crash();

      byte[] survived = disk.content(FILE);
      assertEquals(before.length, survived.length, "seed " + seed);
      boolean lostOne = false;
      for (int from = 0; from < survived.length; from += SECTOR) {
        byte[] sector = Arrays.copyOfRange(survived, from, from + SECTOR);
        boolean old = Arrays.equals(sector, Arrays.copyOfRange(before, from, from + SECTOR));
        boolean updated = Arrays.equals(sector, Arrays.copyOfRange(after, from, from + SECTOR));
        assertTrue(old || updated, "seed " + seed + ": sector at " + from + " is neither");
        if (old && !updated) {
          lostOne = true;
        } else if (updated && !old && lostOne) {
          reordered++;
          break;
        }
      }
    }
    assertTrue(reordered > 0, "no crash kept a later sector of the write and lost an earlier one");
  }

  /** What was synced survives any crash; a file whose creation was not synced may vanish. */
  @Test
  void whatWasSyncedSurvives() throws IOException {
    for (long seed = 1; seed <= 20; seed++) {
      SimulatedDisk disk = new SimulatedDisk(seed, SECTOR);
      disk.createDirectories(DIR);
      byte[] data = pattern(10_000, 3);
      try (Disk.DiskFile f = disk.create(FILE)) {
        f.write(ByteBuffer.wrap(data));
        f.force();
      }
      disk.fsyncDirectory(DIR);
      disk.crash();
      assertArrayEquals(data, disk.content(FILE), "seed " + seed);
    }
  }

  /**
   * The writing volume holds bytes exactly as MapDB's byte-array volume does (big-endian numbers,
   * values across page boundaries), and its store checksum is MapDB's.
   */
  @Test
  void theVolumeHoldsBytesAsMapDbsOwnDoes() throws IOException {
    SimulatedDisk disk = new SimulatedDisk(1, SECTOR);
    disk.createDirectories(DIR);
    Volume sim = disk.openVolume(FILE, false);
    int length = 3 * SimulatedDisk.PAGE_BYTES;
    sim.ensureAvailable(length);
    Volume mapdb = new SingleByteArrayVol(Math.toIntExact(sim.length()));
    Random random = new Random(7);
    for (int i = 0; i < 500; i++) {
      long at = random.nextInt(length - 16);
      if (i % 50 == 0) {
        at = SimulatedDisk.PAGE_BYTES - 1 - random.nextInt(7); // across a page boundary
      }
      switch (i % 4) {
        case 0 -> {
          long v = random.nextLong();
          sim.putLong(at, v);
          mapdb.putLong(at, v);
        }
        case 1 -> {
          int v = random.nextInt();
          sim.putInt(at, v);
          mapdb.putInt(at, v);
        }
        case 2 -> {
          byte v = (byte) random.nextInt();
          sim.putByte(at, v);
          mapdb.putByte(at, v);
        }
        default -> {
          byte[] v = pattern(1 + random.nextInt(15), i);
          sim.putData(at, v, 0, v.length);
          mapdb.putData(at, v, 0, v.length);
        }
      }
    }
    for (long at = 0; at < length - 8; at += 7) {
      assertEquals(mapdb.getLong(at), sim.getLong(at), "long at " + at);
      assertEquals(mapdb.getInt(at), sim.getInt(at), "int at " + at);
    }
    assertEquals(mapdb.hash(0, sim.length(), 42), sim.hash(0, sim.length(), 42));
    sim.close();

    byte[] expected = new byte[Math.toIntExact(mapdb.length())];
    mapdb.getData(0, expected, 0, expected.length);
    assertArrayEquals(expected, disk.content(FILE), "the file holds what was written");
  }

  private static byte[] pattern(int length, int salt) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (i * 31 + salt * 7 + 1);
    }
    return b;
  }
}
