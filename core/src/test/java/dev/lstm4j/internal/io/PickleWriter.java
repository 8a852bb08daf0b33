package dev.lstm4j.internal.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes pickle opcodes by hand, for tests of what no honest pickler writes. */
final class PickleWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PickleWriter op(int... bytes) {
        for (int b : bytes) {
            out.write(b);
        }
        return this;
    }

    PickleWriter raw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    PickleWriter proto(int v) {
        return op(0x80, v);
    }

    PickleWriter mark() {
        return op('(');
    }

    PickleWriter global(String module, String name) {
        op('c');
        return raw((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    }

    PickleWriter str(String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(u.length).array());
        return raw(u);
    }

    PickleWriter integer(long v) {
        if (v >= 0 && v < 256) {
            return op('K', (int) v);
        }
        if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            op('J');
            return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
        }
        op(0x8a, 8);
        return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    PickleWriter ints(long... v) {
        mark();
        for (long x : v) {
            integer(x);
        }
        return op('t');
    }

    /** {@code _rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', numel), offset, size, stride, False, OrderedDict())}. */
    PickleWriter tensor(String storageType, String key, long numel, long offset, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").mark();
        mark().str("storage").global("torch", storageType).str(key).str("cpu").integer(numel).op('t').op('Q');
        integer(offset).ints(size).ints(stride).op(0x89);
        global("collections", "OrderedDict").op(')', 'R');
        return op('t', 'R');
    }

    PickleWriter stop() {
        return op('.');
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    /** A pickle of {@code {name: tensor}} over storage "0". */
    static byte[] oneTensor(String storageType, long numel, long offset, long[] size, long[] stride) {
        return new PickleWriter().proto(2).op('}').str("w").tensor(storageType, "0", numel, offset, size, stride).op('s').stop().bytes();
    }

    /** A torch.save-style zip: {@code archive/data.pkl}, {@code archive/data/<key>}, {@code archive/version}. */
    static byte[] ptFile(byte[] pickle, Map<String, byte[]> storages) {
        ZipBuilder b = new ZipBuilder();
        b.stored("archive/data.pkl", pickle);
        for (Map.Entry<String, byte[]> e : storages.entrySet()) {
            b.stored("archive/data/" + e.getKey(), e.getValue());
        }
        b.stored("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        return b.build();
    }

    static Map<String, byte[]> floats(String key, float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put(key, b.array());
        return m;
    }
}
