package dev.lstm4j.internal.io;

import dev.lstm4j.FileFormatException;
import dev.lstm4j.internal.Names;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A small, strict zip reader for {@code torch.save} archives and {@code .npz} files.
 *
 * <p>The central directory (zip64 included) is read and every entry checked against the file before
 * anything is decompressed: its local header must match, its data must lie before the central directory
 * and must not overlap another entry's (the overlapping-entry zip bomb). Reading an entry enforces its
 * declared size and CRC-32; a deflated entry may not declare more than deflate's maximum expansion
 * ({@value #MAX_RATIO}:1), all deflated entries together may not declare more than max(64 MiB, 64 × the
 * file's size), and no entry is inflated past its declared size: memory stays proportional to the file. Refused: encryption, multi-disk archives, compression other than stored (0)
 * or deflate (8), duplicate names.
 */
final class Zip {
    /** More entries than this is refused (a real state dict has one entry per storage). */
    static final int MAX_ENTRIES = 1 << 18;
    /** Deflate cannot expand data more than about 1032:1; an entry declaring more is forged. */
    static final long MAX_RATIO = 1032;
    /** Largest entry read into memory: a Java array's limit. */
    static final int MAX_ENTRY_BYTES = Integer.MAX_VALUE - 8;
    private static final int MAX_CENTRAL_DIRECTORY = 64 << 20;
    /** All deflated entries together may inflate to at most max(64 MiB, 64 × the file's size). */
    static final long MIN_INFLATE_BUDGET = 64L << 20;
    static final long INFLATE_BUDGET_RATIO = 64;

    private static final int LOCAL = 0x04034b50;
    private static final int CENTRAL = 0x02014b50;
    private static final int END = 0x06054b50;
    private static final int END64 = 0x06064b50;
    private static final int LOCATOR64 = 0x07064b50;
    private static final int STORED = 0;
    private static final int DEFLATED = 8;

    /**
     * One entry, as the central directory declares it and the local header confirms.
     *
     * @param dataOffset where the (compressed) data starts in the file
     */
    record Entry(String name, int method, long crc, long compressedSize, long size, long headerOffset, long dataOffset) {
        long dataEnd() {
            return dataOffset + compressedSize;
        }
    }

    private final FileChannel ch;
    private final Path file;
    private final List<Entry> entries;
    private final Map<String, Entry> byName;
    private final Budget budget;

    private Zip(FileChannel ch, Path file, List<Entry> entries, Budget budget) {
        this.ch = ch;
        this.file = file;
        this.budget = budget;
        this.entries = Collections.unmodifiableList(entries);
        this.byName = new LinkedHashMap<>();
        for (Entry e : entries) {
            byName.put(e.name(), e);
        }
    }

    /** True when the bytes start like a zip archive (a local header, or the end record of an empty one). */
    static boolean sniff(byte[] head) {
        return head.length >= 4 && head[0] == 'P' && head[1] == 'K'
                && (head[2] == 3 && head[3] == 4 || head[2] == 5 && head[3] == 6);
    }

    /** Entries in central directory order. */
    List<Entry> entries() {
        return entries;
    }

    /** The entry of that exact name, or null. */
    Entry find(String name) {
        return byName.get(name);
    }

    Path file() {
        return file;
    }

    /**
     * Reads the central directory of an open file and checks every entry.
     *
     * @throws FileFormatException when the archive is malformed, forged or uses an unsupported feature
     */
    static Zip open(FileChannel ch, Path file) {
        return open(ch, file, new Budget(file, Budget.defaultMaxBytes()));
    }

    /** As {@link #open(FileChannel, Path)}; every entry read is charged to {@code budget} at its inflated size. */
    static Zip open(FileChannel ch, Path file, Budget budget) {
        long size = Bytes.size(ch, file);
        Directory dir = directory(ch, file, size);
        List<Entry> entries = entries(ch, file, dir);
        checkOverlaps(entries, file);
        checkInflated(entries, size, file);
        return new Zip(ch, file, entries, budget);
    }

    /** Where the central directory is and how many entries it holds, from the end record (zip64's where present). */
    private record Directory(long count, long size, long offset) {
    }

    private static Directory directory(FileChannel ch, Path file, long size) {
        if (size < 22) {
            throw bad(file, "not a zip archive: " + size + " bytes, shorter than the 22-byte end record");
        }
        // the end record is the last 22 bytes plus a comment of at most 65535 bytes
        int tailLen = (int) Math.min(size, 22 + 0xffff);
        long tailStart = size - tailLen;
        ByteBuffer tail = Bytes.read(ch, file, tailStart, tailLen);
        int at = -1;
        for (int i = tailLen - 22; i >= 0; i--) {
            if (tail.getInt(i) == END && (tail.getShort(i + 20) & 0xffff) == tailLen - i - 22) {
                at = i;
                break;
            }
        }
        if (at < 0) {
            throw bad(file, "zip archive has no end-of-central-directory record at its end; the file is truncated or not a zip");
        }
        long endPos = tailStart + at;
        int disk = tail.getShort(at + 4) & 0xffff;
        int cdDisk = tail.getShort(at + 6) & 0xffff;
        long diskEntries = tail.getShort(at + 8) & 0xffff;
        long count = tail.getShort(at + 10) & 0xffff;
        long cdSize = tail.getInt(at + 12) & 0xffffffffL;
        long cdOffset = tail.getInt(at + 16) & 0xffffffffL;
        long cdEnd = endPos;
        ByteBuffer loc = endPos >= 20 ? Bytes.read(ch, file, endPos - 20, 20) : null;
        if (loc != null && loc.getInt(0) == LOCATOR64) {
            long end64 = zip64End(ch, file, loc, endPos);
            ByteBuffer e64 = Bytes.read(ch, file, end64, 56);
            if (e64.getInt(16) != 0 || e64.getInt(20) != 0 || e64.getLong(24) != e64.getLong(32)
                    || count != 0xffff && count != e64.getLong(32)
                    || cdSize != 0xffffffffL && cdSize != e64.getLong(40)
                    || cdOffset != 0xffffffffL && cdOffset != e64.getLong(48)) {
                // where the 32-bit record is not saturated it must agree with the zip64 record
                throw bad(file, "zip64 end record (" + e64.getLong(32) + " entries, directory of " + e64.getLong(40) + " bytes at "
                        + e64.getLong(48) + ") disagrees with the end record (" + count + " entries, " + cdSize + " bytes at " + cdOffset + ")");
            }
            disk = 0;
            cdDisk = 0;
            diskEntries = e64.getLong(24);
            count = e64.getLong(32);
            cdSize = e64.getLong(40);
            cdOffset = e64.getLong(48);
            cdEnd = end64;
        }
        if (disk != 0 || cdDisk != 0 || diskEntries != count) {
            throw bad(file, "multi-disk zip archives are not supported");
        }
        if (cdSize < 0 || cdOffset < 0 || cdOffset > cdEnd || cdSize != cdEnd - cdOffset) {
            throw bad(file, "central directory of " + Long.toUnsignedString(cdSize) + " bytes at offset " + Long.toUnsignedString(cdOffset)
                    + " does not end where the end record starts (" + cdEnd + "); the archive is corrupt or has data prepended");
        }
        if (cdSize > MAX_CENTRAL_DIRECTORY) {
            throw bad(file, "central directory of " + cdSize + " bytes is larger than the " + MAX_CENTRAL_DIRECTORY + " accepted");
        }
        if (count < 0 || count > MAX_ENTRIES || count * 46 > cdSize) {
            throw bad(file, "zip declares " + Long.toUnsignedString(count) + " entries, which do not fit its " + cdSize
                    + "-byte central directory (at most " + MAX_ENTRIES + " entries are accepted)");
        }
        return new Directory(count, cdSize, cdOffset);
    }

    /** The offset of the zip64 end record a locator points at, checked to lie before the locator. */
    private static long zip64End(FileChannel ch, Path file, ByteBuffer loc, long endPos) {
        long end64 = loc.getLong(8);
        if (loc.getInt(4) != 0 || loc.getInt(16) > 1) {
            throw bad(file, "multi-disk zip archives are not supported");
        }
        if (end64 < 0 || end64 > endPos - 20 - 56) {
            throw bad(file, "zip64 end record offset " + Long.toUnsignedString(end64) + " is outside the file");
        }
        if (Bytes.read(ch, file, end64, 4).getInt(0) != END64) {
            throw bad(file, "zip64 locator points at offset " + end64 + ", which holds no zip64 end record");
        }
        return end64;
    }

    /** Every central directory entry, checked, with no two of one name and no bytes after the last. */
    private static List<Entry> entries(FileChannel ch, Path file, Directory dir) {
        ByteBuffer cd = Bytes.read(ch, file, dir.offset(), (int) dir.size());
        List<Entry> entries = new ArrayList<>((int) dir.count());
        Map<String, Entry> seen = new LinkedHashMap<>();
        int p = 0;
        for (int i = 0; i < dir.count(); i++) {
            Entry e = centralEntry(ch, file, cd, p, i, dir.offset());
            p = nextCentral(cd, p);
            if (seen.put(e.name(), e) != null) {
                throw bad(file, "zip holds two entries named '" + Names.safe(e.name()) + "'; refusing an ambiguous archive");
            }
            entries.add(e);
        }
        if (p != dir.size()) {
            throw bad(file, "central directory has " + (dir.size() - p) + " bytes after its " + dir.count() + " entries");
        }
        return entries;
    }

    /** Refuses archives whose compressed entries declare more than max(64 MiB, 64 × the file size) in all. */
    private static void checkInflated(List<Entry> entries, long size, Path file) {
        long inflated = 0;
        for (Entry e : entries) {
            inflated += e.method() == DEFLATED ? e.size() : 0; // each ≤ 1032 × the file size: no overflow for real files
        }
        long inflateBudget = Math.max(MIN_INFLATE_BUDGET, INFLATE_BUDGET_RATIO * size);
        if (inflated > inflateBudget) {
            throw bad(file, "compressed entries declare " + inflated + " bytes in total from a " + size + "-byte file, more than the "
                    + inflateBudget + " accepted (max(64 MiB, 64 × file size)); refusing (zip bomb?). A genuine archive can be saved"
                    + " uncompressed (np.savez rather than np.savez_compressed)");
        }
    }

    private static int nextCentral(ByteBuffer cd, int p) {
        return p + 46 + (cd.getShort(p + 28) & 0xffff) + (cd.getShort(p + 30) & 0xffff) + (cd.getShort(p + 32) & 0xffff);
    }

    /**
     * The data of the zip64 extra field (id 0x0001) among the extra fields at {@code q..q+extraLen}, positioned at its
     * first value and holding at least {@code need} bytes.
     */
    private static ByteBuffer zip64Extra(Path file, ByteBuffer cd, int q, int extraLen, String where, int need) {
        int end = q + extraLen;
        while (q + 4 <= end) {
            int id = cd.getShort(q) & 0xffff;
            int len = cd.getShort(q + 2) & 0xffff;
            if (q + 4 + len > end) {
                break;
            }
            if (id == 0x0001) {
                if (len < need) {
                    throw bad(file, where + ": zip64 extra field of " + len + " bytes is too short for the " + need + " it must hold");
                }
                return cd.duplicate().order(cd.order()).position(q + 4);
            }
            q += 4 + len;
        }
        throw bad(file, where + ": sizes are saturated (0xFFFFFFFF) but there is no zip64 extra field");
    }

    private static Entry centralEntry(FileChannel ch, Path file, ByteBuffer cd, int p, int index, long cdOffset) {
        String where = "central directory entry " + index;
        if (p + 46 > cd.limit() || cd.getInt(p) != CENTRAL) {
            throw bad(file, where + " is missing or malformed (at offset " + (cdOffset + p) + ")");
        }
        int flags = cd.getShort(p + 8) & 0xffff;
        int method = cd.getShort(p + 10) & 0xffff;
        long crc = cd.getInt(p + 16) & 0xffffffffL;
        long csize = cd.getInt(p + 20) & 0xffffffffL;
        long usize = cd.getInt(p + 24) & 0xffffffffL;
        int nameLen = cd.getShort(p + 28) & 0xffff;
        int extraLen = cd.getShort(p + 30) & 0xffff;
        int commentLen = cd.getShort(p + 32) & 0xffff;
        int diskStart = cd.getShort(p + 34) & 0xffff;
        long offset = cd.getInt(p + 42) & 0xffffffffL;
        if ((long) p + 46 + nameLen + extraLen + commentLen > cd.limit()) {
            throw bad(file, where + " runs past the end of the central directory");
        }
        byte[] nameBytes = new byte[nameLen];
        cd.get(p + 46, nameBytes);
        String name = (flags & 0x800) != 0 ? new String(nameBytes, StandardCharsets.UTF_8) : new String(nameBytes, StandardCharsets.ISO_8859_1);
        where = "zip entry '" + Names.safe(name) + "'";
        // zip64 extra field: 8-byte values for exactly the fields saturated above, in this order
        boolean needU = usize == 0xffffffffL, needC = csize == 0xffffffffL, needO = offset == 0xffffffffL, needD = diskStart == 0xffff;
        if (needU || needC || needO || needD) {
            ByteBuffer r = zip64Extra(file, cd, p + 46 + nameLen, extraLen, where, (needU ? 8 : 0) + (needC ? 8 : 0) + (needO ? 8 : 0) + (needD ? 4 : 0));
            usize = needU ? r.getLong() : usize;
            csize = needC ? r.getLong() : csize;
            offset = needO ? r.getLong() : offset;
            diskStart = needD ? r.getInt() : diskStart;
        }
        if (diskStart != 0) {
            throw bad(file, "multi-disk zip archives are not supported (" + where + " starts on disk " + diskStart + ")");
        }
        if ((flags & 1) != 0) {
            throw bad(file, where + " is encrypted; encrypted archives are not supported");
        }
        if (method != STORED && method != DEFLATED) {
            throw bad(file, where + " uses compression method " + method + "; only stored (0) and deflate (8) are supported");
        }
        if (usize < 0 || csize < 0 || offset < 0) {
            throw bad(file, where + " declares a size or offset above 2^63");
        }
        if (method == STORED && usize != csize) {
            throw bad(file, where + " is stored uncompressed but declares " + csize + " bytes in the file and " + usize + " bytes of content");
        }
        if (method == DEFLATED && usize > Math.max(csize, 1) * MAX_RATIO) {
            throw bad(file, where + " declares " + usize + " bytes inflated from " + csize + " compressed, more than deflate's maximum ratio of "
                    + MAX_RATIO + ":1; refusing a forged entry (zip bomb?)");
        }
        // the local header must agree, and the data must lie before the central directory
        if (offset > cdOffset - 30) {
            throw bad(file, where + ": local header offset " + offset + " is not before the central directory at " + cdOffset);
        }
        ByteBuffer local = Bytes.read(ch, file, offset, 30);
        if (local.getInt(0) != LOCAL) {
            throw bad(file, where + ": no local header at offset " + offset);
        }
        int localMethod = local.getShort(8) & 0xffff;
        int localNameLen = local.getShort(26) & 0xffff;
        int localExtraLen = local.getShort(28) & 0xffff;
        long dataOffset = offset + 30 + localNameLen + localExtraLen;
        if (localMethod != method || localNameLen != nameLen || dataOffset > cdOffset
                || !Arrays.equals(Bytes.read(ch, file, offset + 30, nameLen).array(), nameBytes)) {
            throw bad(file, where + ": local header at offset " + offset + " does not match the central directory");
        }
        if (csize > cdOffset - dataOffset) {
            throw bad(file, where + ": " + csize + " bytes of data at offset " + dataOffset + " run past the central directory at "
                    + cdOffset + "; the file is truncated or corrupt");
        }
        return new Entry(name, method, crc, csize, usize, offset, dataOffset);
    }

    private static void checkOverlaps(List<Entry> entries, Path file) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::headerOffset));
        for (int i = 1; i < sorted.size(); i++) {
            Entry a = sorted.get(i - 1), b = sorted.get(i);
            if (b.headerOffset() < a.dataEnd()) {
                throw bad(file, "zip entries '" + Names.safe(a.name()) + "' (bytes " + a.headerOffset() + " to " + a.dataEnd() + ") and '" + Names.safe(b.name())
                        + "' (from byte " + b.headerOffset() + ") overlap; overlapping entries are a zip bomb technique, refusing the file");
            }
        }
    }

    /**
     * The entry's content: stored bytes or inflated data, exactly its declared size, CRC-32 checked.
     *
     * @throws FileFormatException when the entry is too large, corrupt, or inflates to another size
     */
    byte[] read(Entry e) {
        if (e.size() > MAX_ENTRY_BYTES) {
            throw bad(file, "zip entry '" + Names.safe(e.name()) + "' holds " + e.size() + " bytes, more than the " + MAX_ENTRY_BYTES
                    + " (2 GiB) lstm4j reads at once");
        }
        budget.charge(e.size(), "zip entry '" + Names.safe(e.name()) + "'");
        byte[] out = e.method() == STORED ? Bytes.read(ch, file, e.dataOffset(), (int) e.size()).array() : inflate(e);
        CRC32 crc = new CRC32();
        crc.update(out);
        if (crc.getValue() != e.crc()) {
            throw bad(file, "zip entry '" + Names.safe(e.name()) + "' fails its CRC-32 check (stored " + Long.toHexString(e.crc()) + ", computed "
                    + Long.toHexString(crc.getValue()) + "); the file is corrupt");
        }
        return out;
    }

    private byte[] inflate(Entry e) {
        String where = "zip entry '" + Names.safe(e.name()) + "'";
        byte[] out = new byte[(int) e.size()];
        Inflater inf = new Inflater(true);
        try {
            long pos = e.dataOffset();
            long end = e.dataEnd();
            boolean dummyGiven = false;
            int produced = 0;
            int stalls = 0;
            byte[] probe = new byte[1];
            while (!inf.finished()) {
                if (inf.needsDictionary()) {
                    throw bad(file, where + ": deflate stream needs a preset dictionary; the entry is corrupt");
                }
                if (inf.needsInput()) {
                    if (pos < end) {
                        int n = (int) Math.min(1 << 16, end - pos);
                        ByteBuffer chunk = Bytes.read(ch, file, pos, n);
                        pos += n;
                        inf.setInput(chunk.array(), 0, n);
                    } else if (!dummyGiven) {
                        inf.setInput(new byte[1]); // raw inflate may want one byte past the data, as java.util.zip gives it
                        dummyGiven = true;
                    } else {
                        throw bad(file, where + ": deflate data ends before the stream does; the file is truncated or corrupt");
                    }
                }
                int n;
                if (produced < out.length) {
                    n = inf.inflate(out, produced, out.length - produced);
                    produced += n;
                } else {
                    n = inf.inflate(probe, 0, 1);
                    if (n > 0) {
                        throw bad(file, where + " inflates to more than its declared " + e.size() + " bytes; refusing (zip bomb?)");
                    }
                }
                stalls = n == 0 && !inf.needsInput() && !inf.finished() ? stalls + 1 : 0;
                if (stalls > 2) {
                    throw bad(file, where + ": deflate stream makes no progress; the entry is corrupt");
                }
            }
            if (produced != e.size()) {
                throw bad(file, where + " inflates to " + produced + " bytes, but declares " + e.size());
            }
            return out;
        } catch (DataFormatException ex) {
            throw bad(file, where + ": deflate data is corrupt (" + ex.getMessage() + ")");
        } finally {
            inf.end();
        }
    }

    private static FileFormatException bad(Path file, String message) {
        return new FileFormatException(file, message);
    }

    /** Little-endian view of a byte array, for readers of entries. */
    static ByteBuffer wrap(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
