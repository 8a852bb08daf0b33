package dev.lstm4j.internal.io;

import dev.lstm4j.FileFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ZipTest {
    @TempDir
    Path tmp;

    private <T> T withZip(byte[] bytes, Function<Zip, T> f) {
        Path p = tmp.resolve("t.zip");
        try {
            Files.write(p, bytes);
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                return f.apply(Zip.open(ch, p));
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** The message of the FileFormatException reading every entry throws. */
    private String fails(byte[] bytes) {
        return assertThrows(FileFormatException.class, () -> withZip(bytes, z -> {
            z.entries().forEach(z::read);
            return null;
        })).getMessage();
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] zeros(int n) {
        return new byte[n];
    }

    @Test
    void readsStoredAndDeflatedEntriesInOrder() {
        for (boolean zip64 : new boolean[] {false, true}) {
            ZipBuilder b = new ZipBuilder();
            b.zip64 = zip64;
            b.comment = "a comment";
            b.stored("top/a", text("alpha"));
            b.deflated("top/b", text("beta beta beta beta beta"));
            b.stored("top/empty", new byte[0]);
            b.deflated("top/empty_deflated", new byte[0]);
            List<String> got = withZip(b.build(), z -> z.entries().stream().map(e -> e.name() + "=" + new String(z.read(e), StandardCharsets.UTF_8)).toList());
            assertEquals(List.of("top/a=alpha", "top/b=beta beta beta beta beta", "top/empty=", "top/empty_deflated="), got, "zip64 " + zip64);
        }
    }

    @Test
    void checksCrc() {
        ZipBuilder b = new ZipBuilder();
        b.stored("a", text("alpha")).declaredCrc = 12345L;
        assertTrue(fails(b.build()).contains("CRC-32"));
    }

    @Test
    void refusesAForgedRatio() {
        ZipBuilder b = new ZipBuilder();
        byte[] content = zeros(1000);
        int csize = ZipBuilder.deflate(content).length;
        b.deflated("bomb", content).declaredSize = (long) csize * 1033;
        String m = fails(b.build());
        assertTrue(m.contains("maximum ratio of 1032:1") && m.contains("zip bomb"), m);
    }

    @Test
    void neverInflatesPastTheDeclaredSize() {
        ZipBuilder b = new ZipBuilder();
        b.deflated("bomb", zeros(100_000)).declaredSize = 1000L;
        String m = fails(b.build());
        assertTrue(m.contains("inflates to more than its declared 1000 bytes"), m);
        ZipBuilder c = new ZipBuilder();
        c.deflated("short", zeros(1000)).declaredSize = 5000L;
        m = fails(c.build());
        assertTrue(m.contains("inflates to 1000 bytes, but declares 5000"), m);
    }

    @Test
    void refusesMoreInflatedDataThanTheBudget() {
        byte[] random = new byte[70_000];
        new SplittableRandom(1).nextBytes(random);
        ZipBuilder b = new ZipBuilder();
        int csize = ZipBuilder.deflate(random).length;
        b.deflated("big", random).declaredSize = (long) csize * 1000; // within deflate's ratio, over the archive's budget
        String m = fails(b.build());
        assertTrue(m.contains("in total") && m.contains("zip bomb"), m);
    }

    /** The overlapping-entry zip bomb: one entry's data runs over the next entry's header. */
    @Test
    void refusesOverlappingEntries() {
        ZipBuilder b = new ZipBuilder();
        ZipBuilder.Entry a = b.stored("a", text("alpha"));
        b.stored("b", text("beta"));
        a.declaredSize = 5L + 30 + 1 + 4;
        a.declaredCompressed = a.declaredSize;
        String m = fails(b.build());
        assertTrue(m.contains("overlap") && m.contains("zip bomb"), m);
        // two central entries sharing one local header
        ZipBuilder c = new ZipBuilder();
        c.stored("x", text("one"));
        c.stored("y", text("two")).declaredOffset = 0L;
        m = fails(c.build());
        assertTrue(m.contains("does not match") || m.contains("overlap"), m);
    }

    @Test
    void refusesDuplicateNames() {
        ZipBuilder b = new ZipBuilder();
        b.stored("a", text("1"));
        b.stored("a", text("2"));
        assertTrue(fails(b.build()).contains("two entries named 'a'"));
    }

    @Test
    void refusesEncryptionAndOtherMethods() {
        ZipBuilder b = new ZipBuilder();
        b.stored("a", text("1")).flags = 1;
        assertTrue(fails(b.build()).contains("encrypted"));
        ZipBuilder c = new ZipBuilder();
        c.stored("a", text("1")).method = 12;
        assertTrue(fails(c.build()).contains("compression method 12"));
    }

    @Test
    void refusesSizesAbove2To63() {
        ZipBuilder b = new ZipBuilder();
        b.zip64 = true;
        ZipBuilder.Entry e = b.stored("a", text("1"));
        e.declaredSize = Long.MIN_VALUE + 7;
        e.declaredCompressed = Long.MIN_VALUE + 7;
        assertTrue(fails(b.build()).contains("above 2^63"));
    }

    @Test
    void refusesDataPastTheCentralDirectory() {
        ZipBuilder b = new ZipBuilder();
        ZipBuilder.Entry e = b.stored("a", text("alpha"));
        e.declaredSize = 1000L;
        e.declaredCompressed = 1000L;
        String m = fails(b.build());
        assertTrue(m.contains("run past the central directory"), m);
    }

    @Test
    void refusesTruncatedOrPrefixedArchives() {
        ZipBuilder b = new ZipBuilder();
        b.stored("a", text("alpha"));
        byte[] ok = b.build();
        assertTrue(fails(Arrays.copyOf(ok, ok.length - 3)).contains("end-of-central-directory"));
        byte[] prefixed = new byte[ok.length + 10];
        System.arraycopy(ok, 0, prefixed, 10, ok.length);
        assertTrue(fails(prefixed).contains("does not end where"));
        assertTrue(fails(new byte[5]).contains("shorter than"));
    }

    @Test
    void refusesAForgedEntryCount() {
        ZipBuilder b = new ZipBuilder();
        b.stored("a", text("alpha"));
        byte[] bytes = b.build();
        int end = bytes.length - 22;
        bytes[end + 8] = (byte) 0xfe; // entries on this disk and in total: 0xfffe
        bytes[end + 9] = (byte) 0xff;
        bytes[end + 10] = (byte) 0xfe;
        bytes[end + 11] = (byte) 0xff;
        assertTrue(fails(bytes).contains("do not fit"));
    }

    @Test
    void corruptDeflateDataFailsCleanly() {
        byte[] content = new byte[4000];
        new SplittableRandom(2).nextBytes(content);
        ZipBuilder b = new ZipBuilder();
        b.deflated("a", content);
        byte[] bytes = b.build();
        for (int i = 40; i < 60; i++) {
            bytes[i] ^= (byte) 0x5a;
        }
        fails(bytes);
    }

    /** An honest, highly compressed entry (deflate's best ratio) is read. */
    @Test
    void readsHonestHighRatioEntries() {
        ZipBuilder b = new ZipBuilder();
        b.deflated("zeros", zeros(1 << 20));
        byte[] bytes = b.build();
        assertTrue(bytes.length < 2000, "1 MiB of zeros deflates to " + bytes.length + " bytes");
        assertArrayEquals(zeros(1 << 20), withZip(bytes, z -> z.read(z.entries().get(0))));
    }
}
