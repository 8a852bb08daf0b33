package dev.lstm4j.internal.io;

import dev.lstm4j.FileFormatException;
import dev.lstm4j.internal.io.RestrictedUnpickler.Dict;
import dev.lstm4j.internal.io.RestrictedUnpickler.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RestrictedUnpicklerTest {
    @TempDir
    Path tmp;

    private static Object load(byte[] pickle) {
        return RestrictedUnpickler.load(pickle, 0, pickle.length, null, "test.pkl", null).value();
    }

    private static String fails(byte[] pickle) {
        return assertThrows(FileFormatException.class, () -> load(pickle)).getMessage();
    }

    /** Python values as JSON would hold them: tuples as lists, big ints as "int:<digits>". */
    private static Object plain(Object o) {
        if (o instanceof Dict d) {
            Map<Object, Object> m = new LinkedHashMap<>();
            d.map.forEach((k, v) -> m.put(k, plain(v)));
            return m;
        }
        if (o instanceof Tuple t) {
            return plain(t.items());
        }
        if (o instanceof List<?> l) {
            List<Object> r = new ArrayList<>();
            l.forEach(x -> r.add(plain(x)));
            return r;
        }
        if (o instanceof BigInteger b) {
            return "int:" + b;
        }
        return o;
    }

    /** The same sample pickled by Python with protocols 0 to 5 reads as the JSON Python wrote. */
    @Test
    void readsEveryProtocolPythonWrites() throws IOException {
        Path dir = PtFixtures.ROOT.resolve("pickles");
        Map<?, ?> expected = PtFixtures.json(dir.resolve("expected.json"));
        PtFixtures.checkVersion(expected, "pickles/expected.json");
        for (int proto = 0; proto <= 5; proto++) {
            byte[] pkl = Files.readAllBytes(dir.resolve("protocol" + proto + ".pkl"));
            Object v = load(pkl);
            assertEquals(expected.get("value"), plain(v), "protocol " + proto);
            Dict d = (Dict) v;
            assertSame(d.map.get("shared"), d.map.get("shared2"), "protocol " + proto + ": the memo keeps shared objects shared");
            assertTrue(((Dict) d.map.get("od")).ordered, "protocol " + proto + ": OrderedDict");
        }
    }

    @Test
    void refusesGlobalsThatRunCode() {
        String[][] globals = {{"os", "system"}, {"posix", "system"}, {"nt", "system"}, {"builtins", "eval"}, {"builtins", "exec"},
                {"__builtin__", "eval"}, {"subprocess", "Popen"}, {"subprocess", "check_output"}, {"builtins", "getattr"},
                {"importlib", "import_module"}, {"runpy", "run_path"}, {"pickle", "loads"}};
        for (String[] g : globals) {
            // as protocol 2 writes it (GLOBAL) and as protocol 4 does (STACK_GLOBAL)
            byte[] p2 = new PickleWriter().proto(2).global(g[0], g[1]).mark().str("id").op('t', 'R').stop().bytes();
            byte[] p4 = new PickleWriter().proto(4).str(g[0]).str(g[1]).op(0x93).mark().str("id").op('t', 'R').stop().bytes();
            for (byte[] p : new byte[][] {p2, p4}) {
                String m = fails(p);
                assertTrue(m.contains("'" + g[0] + "." + g[1] + "'") && m.contains("can run code") && m.contains("refused"), m);
            }
        }
    }

    @Test
    void refusesOtherGlobalsNamingThem() {
        String m = fails(new PickleWriter().proto(2).global("torch.nn.modules.rnn", "LSTM").op(')', 0x81).stop().bytes());
        assertTrue(m.contains("'torch.nn.modules.rnn.LSTM'") && m.contains("whole pickled model") && m.contains(".state_dict()"), m);
        m = fails(new PickleWriter().proto(2).global("numpy.core.multiarray", "_reconstruct").stop().bytes());
        assertTrue(m.contains("'numpy.core.multiarray._reconstruct'") && m.contains("does not load") && m.contains("torch._utils._rebuild_tensor_v2"), m);
    }

    /** A payload that would create a file, inside a .pt, anywhere in the pickle: refused and never run. */
    @Test
    void maliciousPayloadNeverRuns() {
        Path marker = tmp.resolve("pwned");
        List<byte[]> payloads = List.of(
                new PickleWriter().proto(2).global("os", "system").mark().str("touch " + marker).op('t', 'R').stop().bytes(),
                new PickleWriter().proto(2).global("builtins", "open").mark().str(marker.toString()).str("w").op('t', 'R').stop().bytes(),
                new PickleWriter().proto(2).global("subprocess", "call").mark().op(']').str("touch").str(marker.toString()).op('e')
                        .op('t', 'R').stop().bytes(),
                // the payload as the value of a state dict entry, after an honest tensor
                new PickleWriter().proto(2).op('}').mark().str("w").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1})
                        .str("x").global("builtins", "eval").mark().str("open('" + marker + "', 'w')").op('t', 'R').op('u').stop().bytes());
        int i = 0;
        for (byte[] payload : payloads) {
            Path pt = tmp.resolve("evil" + i++ + ".pt");
            try {
                Files.write(pt, PickleWriter.ptFile(payload, PickleWriter.floats("0", 1f)));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            String m = assertThrows(FileFormatException.class, () -> WeightsFiles.read(pt)).getMessage();
            assertTrue(m.contains("can run code"), m);
            assertFalse(Files.exists(marker), "the payload ran: " + marker + " exists");
        }
    }

    @Test
    void refusesOpcodesThatInstantiateOrReachOutside() {
        assertTrue(fails(new PickleWriter().proto(2).global("collections", "OrderedDict").op(')', 0x81).stop().bytes()).contains("NEWOBJ"));
        assertTrue(fails(new PickleWriter().mark().op('i').raw("collections\nOrderedDict\n".getBytes()).stop().bytes()).contains("INST"));
        assertTrue(fails(new PickleWriter().mark().global("collections", "OrderedDict").op('o').stop().bytes()).contains("OBJ"));
        assertTrue(fails(new PickleWriter().proto(2).op(']', '}', 'b').stop().bytes()).contains("BUILD would set the state of list"));
        assertTrue(fails(new PickleWriter().proto(2).op('N', ')', 'R').stop().bytes()).contains("not callable"));
        assertTrue(fails(new PickleWriter().proto(2).op(0x82, 1).stop().bytes()).contains("extension registry"));
        assertTrue(fails(new PickleWriter().proto(4).op(0x8f).stop().bytes()).contains("sets are not supported"));
        assertTrue(fails(new PickleWriter().op('P').raw("x\n".getBytes()).stop().bytes()).contains("PERSID"));
        assertTrue(fails(new PickleWriter().proto(2).mark().str("storage").op('t', 'Q').stop().bytes()).contains("persistent id"));
        assertTrue(fails(new PickleWriter().proto(2).op('}', ']', 'a').stop().bytes()).contains("only lists can be appended"));
        assertTrue(fails(new PickleWriter().proto(2).op(']', 'N', 'N', 's').stop().bytes()).contains("only dicts"));
        assertTrue(fails(new PickleWriter().proto(2).mark().op('N', 'd').stop().bytes()).contains("key-value pairs"));
        assertTrue(fails(new PickleWriter().proto(2).op('}', ']', 'N', 's').stop().bytes()).contains("dict key of type list"));
    }

    @Test
    void refusesCorruptStreams() {
        assertTrue(fails(new PickleWriter().proto(2).op(0xff).bytes()).contains("unknown pickle opcode 0xff"));
        assertTrue(fails(new PickleWriter().proto(6).stop().bytes()).contains("protocol 6"));
        assertTrue(fails(new PickleWriter().proto(2).op('N').bytes()).contains("without its STOP"));
        assertTrue(fails(new PickleWriter().proto(2).stop().bytes()).contains("empty stack"));
        assertTrue(fails(new PickleWriter().proto(2).op('t').stop().bytes()).contains("never opened"));
        assertTrue(fails(new PickleWriter().proto(2).op('X', 0xff, 0xff, 0xff, 0xff).raw("abc".getBytes()).stop().bytes()).contains("ends early"));
        assertTrue(fails(new PickleWriter().proto(4).op(0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f).stop().bytes()).contains("ends early"));
        assertTrue(fails(new PickleWriter().proto(4).op(0x8e, 0, 0, 0, 0, 0, 0, 0, 0x80).stop().bytes()).contains("ends early"));
        assertTrue(fails(new PickleWriter().proto(4).op(0x95, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff).stop().bytes()).contains("ends early"));
        assertTrue(fails(new PickleWriter().proto(2).op(0x8b, 0, 0, 0, 0x40).stop().bytes()).contains("integer of"));
        assertTrue(fails(new PickleWriter().op('I').raw("12x\n".getBytes()).stop().bytes()).contains("not a number"));
        assertTrue(fails(new PickleWriter().op('F').raw("1.5e\n".getBytes()).stop().bytes()).contains("not a number"));
        assertTrue(fails(new PickleWriter().op('S').raw("abc\n".getBytes()).stop().bytes()).contains("quoted"));
    }

    @Test
    void refusesAMissingMemoSlot() {
        assertTrue(fails(new PickleWriter().proto(2).op('h', 5).stop().bytes()).contains("memo slot 5, which was never set"));
        assertTrue(fails(new PickleWriter().proto(2).op('j', 0xff, 0xff, 0xff, 0xff).stop().bytes()).contains("memo slot 4294967295"));
        assertTrue(fails(new PickleWriter().op('g').raw("77\n".getBytes()).stop().bytes()).contains("memo slot 77"));
    }

    @Test
    void boundsNesting() {
        PickleWriter marks = new PickleWriter().proto(2);
        for (int i = 0; i < 100_000; i++) {
            marks.mark();
        }
        assertTrue(fails(marks.stop().bytes()).contains("nests deeper than"));
        // a million nested tuples read iteratively; as a dict key they are refused before any deep hash
        PickleWriter tuples = new PickleWriter().proto(2).op('N');
        for (int i = 0; i < 1_000_000; i++) {
            tuples.op(0x85);
        }
        assertTrue(load(tuples.stop().bytes()) instanceof Tuple);
        PickleWriter key = new PickleWriter().proto(2).op('}', 'N');
        for (int i = 0; i < 100; i++) {
            key.op(0x85);
        }
        assertTrue(fails(key.op('N', 's').stop().bytes()).contains("nested deeper than 32"));
    }

    @Test
    void boundsStackMemoAndObjects() {
        PickleWriter stack = new PickleWriter().proto(2);
        for (int i = 0; i < RestrictedUnpickler.MAX_STACK + 1; i++) {
            stack.op('N');
        }
        assertTrue(fails(stack.stop().bytes()).contains("stack grows past"));
        PickleWriter memo = new PickleWriter().proto(2).op('N');
        for (int i = 0; i <= RestrictedUnpickler.MAX_MEMO; i++) {
            memo.op('r', i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, 0);
        }
        assertTrue(fails(memo.stop().bytes()).contains("memo grows past"));
        PickleWriter objects = new PickleWriter().proto(2);
        for (int i = 0; i <= RestrictedUnpickler.MAX_OBJECTS; i++) {
            objects.op(']', '0');
        }
        assertTrue(fails(objects.op('N').stop().bytes()).contains("objects"));
    }

    /** A dict key of tuples that each hold the next one twice: hashed in time linear in its depth. */
    @Test
    void sharedTupleChainKeysAreHashedOnce() {
        Object v = assertTimeoutPreemptively(Duration.ofSeconds(2), () -> load(HostilePickles.sharedTupleChainKey(31)));
        assertEquals(1, ((Dict) v).map.size());
        for (int depth : new int[] {33, 64, 1000, 100_000}) {
            String m = assertTimeoutPreemptively(Duration.ofSeconds(2), () -> fails(HostilePickles.sharedTupleChainKey(depth)));
            assertTrue(m.contains("nested deeper than 32"), m);
        }
        // two chains built apart are one key, as in Python: equality is not a 2^depth walk either
        PickleWriter w = new PickleWriter().proto(2).op('}');
        for (int k = 0; k < 2; k++) {
            w.str("leaf");
            for (int i = 0; i < 31; i++) {
                w.op('2', 0x86);
            }
            w.integer(k).op('s');
        }
        Dict d = (Dict) assertTimeoutPreemptively(Duration.ofSeconds(2), () -> load(w.stop().bytes()));
        assertEquals(1, d.map.size());
        assertEquals(1L, d.map.values().iterator().next(), "the last value wins, as in Python");
    }

    /**
     * 100,000 keys with one Java hash code (strings, tuples of them, strings mixed with ints) load about as fast
     * as 100,000 ordinary keys (before: 287 s for the tuples). Timed against that control, as the machine is shared.
     */
    @Test
    void collidingKeysStayFast() {
        for (String kind : new String[] {"str", "tuple", "mixed"}) {
            byte[] p = HostilePickles.collidingKeys(100_000, kind);
            byte[] control = HostilePickles.ordinaryKeys(100_000, kind);
            load(control); // warm up
            long t0 = System.nanoTime();
            load(control);
            long t1 = System.nanoTime();
            Dict d = (Dict) assertTimeoutPreemptively(Duration.ofSeconds(60), () -> load(p), kind);
            long t2 = System.nanoTime();
            System.out.printf("collidingKeysStayFast: %s keys, %d bytes: %.0f ms, ordinary keys %.0f ms%n", kind, p.length,
                    (t2 - t1) / 1e6, (t1 - t0) / 1e6);
            assertEquals(100_000, d.map.size(), kind);
            assertTrue(t2 - t1 < 20 * (t1 - t0) + 5_000_000_000L, kind + ": " + (t2 - t1) / 1e6 + " ms vs " + (t1 - t0) / 1e6 + " ms");
        }
    }

    /** Keys compare as Python compares them: 1, True and 1.0 are one key; the first key object stays, the last value wins. */
    @Test
    void keysFollowPythonEquality() {
        byte[] p = new PickleWriter().proto(2).op('}').integer(1).str("a").op('s').op(0x88).str("b").op('s')
                .op('G').raw(new byte[] {0x3f, (byte) 0xf0, 0, 0, 0, 0, 0, 0}).str("c").op('s')
                .op(0x85).str("tuple").op('s') // (1.0,) after the dict: a fresh key
                .stop().bytes();
        assertThrows(FileFormatException.class, () -> load(p), "SETITEM on a tuple is refused");
        byte[] q = new PickleWriter().proto(2).op('}').integer(1).str("a").op('s').op(0x88).str("b").op('s')
                .op('G').raw(new byte[] {0x3f, (byte) 0xf0, 0, 0, 0, 0, 0, 0}).str("c").op('s').stop().bytes();
        Dict d = (Dict) load(q);
        assertEquals(1, d.map.size());
        assertEquals("c", d.map.values().iterator().next());
        assertEquals("1", d.map.keySet().iterator().next().toString());
        assertTrue(fails(new PickleWriter().proto(2).op('}').op(']').op('N', 's').stop().bytes()).contains("dict key of type list"));
    }
}
