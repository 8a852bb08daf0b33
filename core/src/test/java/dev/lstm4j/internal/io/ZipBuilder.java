package dev.lstm4j.internal.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Writes zip archives for tests, including ones real writers never make: zip64 records on small files,
 * forged sizes, CRCs and offsets.
 */
final class ZipBuilder {
    /** One entry; the declared* fields, when set, replace what the central directory would say. */
    static final class Entry {
        final String name;
        final byte[] content;
        final boolean deflate;
        Long declaredSize;
        Long declaredCompressed;
        Long declaredCrc;
        Long declaredOffset;
        int flags;
        int method = -1;

        Entry(String name, byte[] content, boolean deflate) {
            this.name = name;
            this.content = content;
            this.deflate = deflate;
        }
    }

    final List<Entry> entries = new ArrayList<>();
    /** Zip64 extra fields in the central directory and zip64 end records, with saturated 32-bit fields. */
    boolean zip64;
    String comment = "";

    Entry stored(String name, byte[] content) {
        Entry e = new Entry(name, content, false);
        entries.add(e);
        return e;
    }

    Entry deflated(String name, byte[] content) {
        Entry e = new Entry(name, content, true);
        entries.add(e);
        return e;
    }

    static byte[] deflate(byte[] content) {
        Deflater d = new Deflater(Deflater.BEST_COMPRESSION, true);
        d.setInput(content);
        d.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        while (!d.finished()) {
            out.write(buf, 0, d.deflate(buf));
        }
        d.end();
        return out.toByteArray();
    }

    static long crc(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b);
        return c.getValue();
    }

    byte[] build() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long[] offsets = new long[entries.size()];
        byte[][] data = new byte[entries.size()][];
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            data[i] = e.deflate ? deflate(e.content) : e.content;
            offsets[i] = out.size();
            byte[] name = e.name.getBytes(StandardCharsets.UTF_8);
            ByteBuffer h = le(30 + name.length);
            h.putInt(0x04034b50).putShort((short) 20).putShort((short) e.flags).putShort((short) method(e)).putShort((short) 0)
                    .putShort((short) 0).putInt((int) crc(e.content)).putInt(data[i].length).putInt(e.content.length)
                    .putShort((short) name.length).putShort((short) 0).put(name);
            out.writeBytes(h.array());
            out.writeBytes(data[i]);
        }
        long cdStart = out.size();
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            byte[] name = e.name.getBytes(StandardCharsets.UTF_8);
            long usize = e.declaredSize != null ? e.declaredSize : e.content.length;
            long csize = e.declaredCompressed != null ? e.declaredCompressed : data[i].length;
            long offset = e.declaredOffset != null ? e.declaredOffset : offsets[i];
            long crc = e.declaredCrc != null ? e.declaredCrc : crc(e.content);
            int extraLen = zip64 ? 4 + 24 : 0;
            ByteBuffer c = le(46 + name.length + extraLen);
            c.putInt(0x02014b50).putShort((short) 45).putShort((short) 45).putShort((short) e.flags).putShort((short) method(e))
                    .putShort((short) 0).putShort((short) 0).putInt((int) crc)
                    .putInt(zip64 ? -1 : (int) csize).putInt(zip64 ? -1 : (int) usize)
                    .putShort((short) name.length).putShort((short) extraLen).putShort((short) 0).putShort((short) 0)
                    .putShort((short) 0).putInt(0).putInt(zip64 ? -1 : (int) offset).put(name);
            if (zip64) {
                c.putShort((short) 1).putShort((short) 24).putLong(usize).putLong(csize).putLong(offset);
            }
            out.writeBytes(c.array());
        }
        long cdSize = out.size() - cdStart;
        if (zip64) {
            long end64 = out.size();
            ByteBuffer r = le(56);
            r.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                    .putLong(entries.size()).putLong(entries.size()).putLong(cdSize).putLong(cdStart);
            out.writeBytes(r.array());
            ByteBuffer loc = le(20);
            loc.putInt(0x07064b50).putInt(0).putLong(end64).putInt(1);
            out.writeBytes(loc.array());
        }
        byte[] cm = comment.getBytes(StandardCharsets.UTF_8);
        ByteBuffer end = le(22 + cm.length);
        end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0)
                .putShort((short) (zip64 ? 0xffff : entries.size())).putShort((short) (zip64 ? 0xffff : entries.size()))
                .putInt(zip64 ? -1 : (int) cdSize).putInt(zip64 ? -1 : (int) cdStart).putShort((short) cm.length).put(cm);
        out.writeBytes(end.array());
        return out.toByteArray();
    }

    private static int method(Entry e) {
        return e.method >= 0 ? e.method : e.deflate ? 8 : 0;
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
