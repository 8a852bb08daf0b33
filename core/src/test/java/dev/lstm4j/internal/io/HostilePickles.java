package dev.lstm4j.internal.io;

import java.util.ArrayList;
import java.util.List;

/** Pickles built to cost time rather than to be wrong: shared tuple chains and keys with one Java hash code. */
final class HostilePickles {
    private HostilePickles() {
    }

    /**
     * {@code {k: None}} where {@code k = (t, t)}, {@code t = (u, u)}, … {@code depth} levels down to a string:
     * a few bytes per level, but 2^depth paths for a hash or equality that walks the tuples.
     */
    static byte[] sharedTupleChainKey(int depth) {
        PickleWriter w = new PickleWriter().proto(2).op('}').str("leaf");
        for (int i = 0; i < depth; i++) {
            w.op('2', 0x86); // DUP, TUPLE2
        }
        return w.op('N', 's').stop().bytes();
    }

    /** {@code n} distinct strings of 2·⌈log2 n⌉ characters with one Java hash code ("Aa" and "BB" hash alike). */
    static List<String> collidingStrings(int n) {
        int blocks = 1;
        while ((1 << blocks) < n) {
            blocks++;
        }
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            StringBuilder b = new StringBuilder(2 * blocks);
            for (int k = 0; k < blocks; k++) {
                b.append((i >> k & 1) == 0 ? "Aa" : "BB");
            }
            out.add(b.toString());
        }
        return out;
    }

    /**
     * A dict of {@code n} keys that share one Java hash code, each mapped to None: strings, 1-tuples of
     * strings, or half strings and half ints whose {@code Long.hashCode} is the strings' hash.
     */
    static byte[] collidingKeys(int n, String kind) {
        return keys(collidingStrings(n), kind);
    }

    /** As {@link #collidingKeys}, with strings of the same length whose hash codes differ: the control. */
    static byte[] ordinaryKeys(int n, String kind) {
        int len = collidingStrings(n).get(0).length();
        List<String> s = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String d = Integer.toString(i);
            s.add("k".repeat(len - d.length()) + d);
        }
        return keys(s, kind);
    }

    private static byte[] keys(List<String> s, String kind) {
        int n = s.size();
        int hash = s.get(0).hashCode();
        PickleWriter w = new PickleWriter().proto(2).op('}');
        int chunk = 1000;
        for (int from = 0; from < n; from += chunk) {
            w.mark();
            for (int i = from; i < Math.min(n, from + chunk); i++) {
                switch (kind) {
                    case "str" -> w.str(s.get(i));
                    case "tuple" -> w.str(s.get(i)).op(0x85);
                    case "mixed" -> {
                        if (i % 2 == 0) {
                            w.str(s.get(i));
                        } else {
                            long v = (long) i << 32 | (hash ^ i) & 0xffffffffL; // Long.hashCode(v) == hash
                            w.op(0x8a, 8).raw(java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(v).array());
                        }
                    }
                    default -> throw new IllegalArgumentException(kind);
                }
                w.op('N');
            }
            w.op('u'); // SETITEMS
        }
        return w.stop().bytes();
    }
}
