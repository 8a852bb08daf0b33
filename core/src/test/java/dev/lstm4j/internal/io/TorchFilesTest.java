package dev.lstm4j.internal.io;

import dev.lstm4j.StateDict;
import dev.lstm4j.FileFormatException;
import dev.lstm4j.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hand-made torch.save archives: strides, offsets and every check on storages, records and structure. */
class TorchFilesTest {
    @TempDir
    Path tmp;

    private Path write(byte[] bytes) {
        Path p = tmp.resolve("m.pt");
        try {
            Files.write(p, bytes);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return p;
    }

    private Tensor readOne(byte[] pickle, Map<String, byte[]> storages) {
        return TorchFiles.read(write(PickleWriter.ptFile(pickle, storages))).tensors().get("w");
    }

    private String fails(byte[] zip) {
        Path p = write(zip);
        return assertThrows(FileFormatException.class, () -> WeightsFiles.read(p)).getMessage();
    }

    private String failsOne(byte[] pickle, Map<String, byte[]> storages) {
        return fails(PickleWriter.ptFile(pickle, storages));
    }

    private static final Map<String, byte[]> SIX = PickleWriter.floats("0", 1, 2, 3, 4, 5, 6);

    /** Element (i, j) of a view is storage[offset + i*stride0 + j*stride1], as in PyTorch. */
    @Test
    void honoursOffsetsAndStrides() {
        Tensor t = readOne(PickleWriter.oneTensor("FloatStorage", 6, 0, new long[] {2, 3}, new long[] {1, 2}), SIX);
        assertArrayEquals(new int[] {2, 3}, t.shape());
        assertArrayEquals(new double[] {1, 3, 5, 2, 4, 6}, t.toDoubleArray());
        t = readOne(PickleWriter.oneTensor("FloatStorage", 6, 1, new long[] {2, 2}, new long[] {3, 1}), SIX);
        assertArrayEquals(new double[] {2, 3, 5, 6}, t.toDoubleArray());
        t = readOne(PickleWriter.oneTensor("FloatStorage", 6, 4, new long[] {3}, new long[] {0}), SIX); // expanded
        assertArrayEquals(new double[] {5, 5, 5}, t.toDoubleArray());
        t = readOne(PickleWriter.oneTensor("FloatStorage", 6, 2, new long[] {}, new long[] {}), SIX); // a scalar
        assertArrayEquals(new double[] {3}, t.toDoubleArray());
        t = readOne(PickleWriter.oneTensor("FloatStorage", 6, 6, new long[] {0, 4}, new long[] {4, 1}), SIX); // empty, at the end
        assertEquals(0, t.elementCount());
    }

    /** A module's _extra_state (any value) is part of its state dict, and skipped. */
    @Test
    void skipsExtraState() {
        byte[] pkl = new PickleWriter().proto(2).op('}').mark().str("w").tensor("FloatStorage", "0", 6, 0, new long[] {2}, new long[] {1})
                .str("norm._extra_state").mark().str("anything").op('t').op('u').stop().bytes();
        StateDict sd = TorchFiles.read(write(PickleWriter.ptFile(pkl, SIX)));
        assertEquals(java.util.List.of("w"), java.util.List.copyOf(sd.tensors().keySet()));
        byte[] noTensor = new PickleWriter().proto(2).op('}').str("norm._extra_state").op('N', 's').stop().bytes();
        assertTrue(failsOne(noTensor, SIX).contains("no state dict"));
    }

    @Test
    void refusesViewsOutsideTheStorage() {
        String m = failsOne(PickleWriter.oneTensor("FloatStorage", 6, 1, new long[] {2, 3}, new long[] {3, 1}), SIX);
        assertTrue(m.contains("reaches element 6 of storage '0', which holds 6 elements"), m);
        m = failsOne(PickleWriter.oneTensor("FloatStorage", 6, 0, new long[] {1L << 40, 1L << 40}, new long[] {1L << 40, 1}), SIX);
        assertTrue(m.contains("overflows") || m.contains("larger than 2^31"), m);
        m = failsOne(PickleWriter.oneTensor("FloatStorage", 6, 0, new long[] {65536, 65536}, new long[] {0, 0}), SIX);
        assertTrue(m.contains("more than one tensor can hold"), m);
        m = failsOne(PickleWriter.oneTensor("FloatStorage", 6, 0, new long[] {3}, new long[] {-1}), SIX);
        assertTrue(m.contains("non-negative"), m);
        m = failsOne(PickleWriter.oneTensor("FloatStorage", 6, 0, new long[] {3, 2}, new long[] {1}), SIX);
        assertTrue(m.contains("size has 2 dimensions but stride has 1"), m);
    }

    /** A stride-0 view can make a tiny file expand to gigabytes: capped. */
    @Test
    void capsExpandedViews() {
        String m = failsOne(PickleWriter.oneTensor("FloatStorage", 6, 0, new long[] {(1 << 24) + 100}, new long[] {0}), SIX);
        assertTrue(m.contains("add up to more than") && m.contains("contiguous"), m);
    }

    @Test
    void checksStoragesAgainstTheirEntries() {
        String m = failsOne(PickleWriter.oneTensor("FloatStorage", 7, 0, new long[] {6}, new long[] {1}), SIX);
        assertTrue(m.contains("storage '0' of 7 float32 elements needs 28 bytes, but archive/data/0 holds 24"), m);
        m = failsOne(PickleWriter.oneTensor("DoubleStorage", 6, 0, new long[] {6}, new long[] {1}), SIX);
        assertTrue(m.contains("needs 48 bytes"), m);
        m = failsOne(PickleWriter.oneTensor("FloatStorage", Long.MAX_VALUE / 2, 0, new long[] {6}, new long[] {1}), SIX);
        assertTrue(m.contains("more than 2^63"), m);
        m = failsOne(PickleWriter.oneTensor("FloatStorage", 6, 0, new long[] {6}, new long[] {1}), PickleWriter.floats("1", 1, 2, 3, 4, 5, 6));
        assertTrue(m.contains("no archive/data/0"), m);
        byte[] notAStorage = new PickleWriter().proto(2).op('}').str("w").global("torch._utils", "_rebuild_tensor_v2").mark()
                .mark().str("storage").global("collections", "OrderedDict").str("0").str("cpu").integer(6).op('t', 'Q')
                .stop().bytes();
        m = failsOne(notAStorage, SIX);
        assertTrue(m.contains("not one of torch's storage classes"), m);
    }

    @Test
    void readsEveryStorageTypeAndByteOrder() {
        ZipBuilder b = new ZipBuilder();
        b.stored("x/data.pkl", PickleWriter.oneTensor("ShortStorage", 2, 0, new long[] {2}, new long[] {1}));
        b.stored("x/data/0", new byte[] {1, 2, (byte) 0xff, (byte) 0xfe});
        b.stored("x/.data/version", "3".getBytes(StandardCharsets.US_ASCII));
        b.stored("x/byteorder", "big".getBytes(StandardCharsets.US_ASCII));
        StateDict sd = TorchFiles.read(write(b.build()));
        assertArrayEquals(new double[] {0x0102, -2}, sd.tensors().get("w").toDoubleArray());
        assertEquals("3", sd.metadata().get("format_version"));
    }

    @Test
    void checksTheArchiveRecords() {
        byte[] pkl = PickleWriter.oneTensor("FloatStorage", 6, 0, new long[] {6}, new long[] {1});
        ZipBuilder noVersion = new ZipBuilder();
        noVersion.stored("a/data.pkl", pkl);
        noVersion.stored("a/data/0", SIX.get("0"));
        assertTrue(fails(noVersion.build()).contains("no a/version record"));
        for (String v : new String[] {"0", "11", "three", "3".repeat(100)}) {
            ZipBuilder b = new ZipBuilder();
            b.stored("a/data.pkl", pkl);
            b.stored("a/data/0", SIX.get("0"));
            b.stored("a/version", v.getBytes(StandardCharsets.US_ASCII));
            assertTrue(fails(b.build()).contains("format versions 1 to 10"), v);
        }
        ZipBuilder order = new ZipBuilder();
        order.stored("a/data.pkl", pkl);
        order.stored("a/data/0", SIX.get("0"));
        order.stored("a/version", "3".getBytes(StandardCharsets.US_ASCII));
        order.stored("a/byteorder", "middle".getBytes(StandardCharsets.US_ASCII));
        assertTrue(fails(order.build()).contains("must say 'little' or 'big'"));
        ZipBuilder two = new ZipBuilder();
        two.stored("a/data.pkl", pkl);
        two.stored("b/data.pkl", pkl);
        assertTrue(fails(two.build()).contains("several data.pkl"));
        ZipBuilder ts = new ZipBuilder();
        ts.stored("a/data.pkl", pkl);
        ts.stored("a/constants.pkl", pkl);
        assertTrue(fails(ts.build()).contains("TorchScript"));
        ZipBuilder other = new ZipBuilder();
        other.stored("readme.txt", "hello".getBytes(StandardCharsets.US_ASCII));
        assertTrue(fails(other.build()).contains("neither a torch.save file"));
    }

    @Test
    void findsNoStateDictInHostileShapesWithoutRecursing() {
        Map<String, byte[]> none = Map.of();
        // half a million nested lists
        PickleWriter deep = new PickleWriter().proto(2);
        for (int i = 0; i < 500_000; i++) {
            deep.op(']');
        }
        for (int i = 1; i < 500_000; i++) {
            deep.op('a');
        }
        String m = failsOne(deep.stop().bytes(), none);
        assertTrue(m.contains("no state dict"), m);
        // a list that contains itself
        m = failsOne(new PickleWriter().proto(2).op(']', 'q', 0, 'h', 0, 'a').stop().bytes(), none);
        assertTrue(m.contains("no state dict"), m);
        // a dict that contains itself, asked for by key
        byte[] selfDict = new PickleWriter().proto(2).op('}', 'q', 0).str("me").op('h', 0, 's').stop().bytes();
        Path p = write(PickleWriter.ptFile(selfDict, none));
        m = assertThrows(FileFormatException.class, () -> WeightsFiles.read(p, "me/me/me")).getMessage();
        assertTrue(m.contains("not a state dict"), m);
    }

    @Test
    void aBarePickleIsNotATorchFile() throws IOException {
        Path p = tmp.resolve("x.pkl");
        Files.write(p, new PickleWriter().proto(2).op('}').stop().bytes());
        String m = assertThrows(FileFormatException.class, () -> WeightsFiles.read(p)).getMessage();
        assertTrue(m.contains("bare Python pickle"), m);
        Files.write(p, new PickleWriter().proto(2).global("os", "system").stop().bytes());
        m = assertThrows(FileFormatException.class, () -> WeightsFiles.read(p)).getMessage();
        assertTrue(m.contains("can run code"), m);
        byte[] tar = new byte[1024];
        System.arraycopy("ustar".getBytes(StandardCharsets.US_ASCII), 0, tar, 257, 5);
        Files.write(p, tar);
        m = assertThrows(FileFormatException.class, () -> WeightsFiles.read(p)).getMessage();
        assertTrue(m.contains("tar archive") && m.contains("legacy"), m);
    }

    /** torch.load reuses the first typed storage for a key; a second dtype for it would be silently ignored, so it is refused. */
    @Test
    void oneStorageWithTwoDtypesIsRefused() {
        byte[] pickle = new PickleWriter().proto(2).op('}')
                .str("a").tensor("FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1}).op('s')
                .str("b").tensor("DoubleStorage", "0", 1, 0, new long[] {1}, new long[] {1}).op('s').stop().bytes();
        String m = failsOne(pickle, PickleWriter.floats("0", 1, 2));
        assertTrue(m.contains("names storage '0' twice, as 2 float32 and as 1 float64 elements"), m);
        // the same storage named twice with one dtype is an ordinary shared storage
        byte[] shared = new PickleWriter().proto(2).op('}')
                .str("w").tensor("FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1}).op('s')
                .str("v").tensor("FloatStorage", "0", 2, 1, new long[] {1}, new long[] {1}).op('s').stop().bytes();
        assertArrayEquals(new double[] {1, 2}, readOne(shared, PickleWriter.floats("0", 1, 2)).toDoubleArray());
    }

    /** A stride-0 view of one float is charged at the size it expands to, against maxBytes, before it is made. */
    @Test
    void strideZeroViewsAreChargedAtTheirExpandedSize() {
        byte[] pickle = PickleWriter.oneTensor("FloatStorage", 1, 0, new long[] {1 << 20}, new long[] {0});
        Path p = write(PickleWriter.ptFile(pickle, PickleWriter.floats("0", 7)));
        assertEquals(1 << 20, TorchFiles.read(p, null, 8L << 20).tensors().get("w").elementCount());
        String m = assertThrows(FileFormatException.class, () -> TorchFiles.read(p, null, 1 << 20)).getMessage();
        assertTrue(m.contains("tensor 'w' (a view of storage '0') expands to 4194304 bytes") && m.contains("(maxBytes)"), m);
    }

    @Test
    void namesFromTheArchiveAreEscaped() {
        byte[] pickle = PickleWriter.oneTensor("FloatStorage", 1, 0, new long[] {1}, new long[] {1});
        ZipBuilder b = new ZipBuilder();
        b.stored("arch\u001b[2Jive/data.pkl", pickle);
        b.stored("arch\u001b[2Jive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        String m = fails(b.build());
        assertTrue(m.contains("arch\\x1b[2Jive/data/0") && dev.lstm4j.internal.Names.isPrintable(m), m);
    }

    /**
     * The two .pt files that hung the readers: a 312-byte-class file whose dict key is a chain of tuples each
     * holding the next twice (63 s before), and 100,000 tuple keys of one Java hash code (287 s before).
     */
    @Test
    void ptFilesWithCostlyKeysAreRefusedFast() {
        for (int depth : new int[] {31, 40, 120}) {
            byte[] pt = PickleWriter.ptFile(HostilePickles.sharedTupleChainKey(depth), Map.of());
            String m = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                    java.time.Duration.ofSeconds(5), () -> fails(pt), "depth " + depth);
            assertTrue(depth > 32 ? m.contains("nested deeper than 32") : m.contains("no state dict"), depth + ": " + m);
        }
        byte[] pt = PickleWriter.ptFile(HostilePickles.collidingKeys(100_000, "tuple"), Map.of());
        System.out.println("ptFilesWithCostlyKeysAreRefusedFast: " + pt.length + " bytes of colliding tuple keys");
        String m = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> fails(pt));
        assertTrue(m.contains("no state dict"), m);
    }
}
