package dev.lstm4j.internal.io;

import dev.lstm4j.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A seeded mutation fuzzer over real files of every format: truncation, bit flips, random and
 * "interesting" values written over length, count and offset fields, forged numbers in text headers,
 * inserted, deleted and duplicated bytes. Every reader must either read the mutant or throw one of
 * lstm4j's documented exceptions, and {@link ModelLoader} must do the same with what is read; anything
 * else (an OutOfMemoryError, a StackOverflowError, an IndexOutOfBoundsException, a case over its time or
 * allocation limit, a message with a control character: see {@link FuzzGuard}) fails the test with the
 * seed, the case and the mutation. {@link StructuredFuzzTest} generates hostile structures rather than
 * mutating honest files.
 *
 * <p>Replay or explore with {@code -Dlstm4j.fuzz.seed=S -Dlstm4j.fuzz.cases=N} (cases per seed file);
 * {@code HostileFilesFuzzIT} runs many more cases from a fresh seed.
 */
class HostileFilesFuzzTest {
    static final long DEFAULT_SEED = 0x15_7d_4a_11L;
    static final int DEFAULT_CASES = 300;

    @TempDir
    Path tmp;

    /** A reader under test. */
    interface Reader {
        Object read(Path file);
    }

    /** A file to mutate, how to read it, and the offsets of its binary length/offset fields. */
    record Target(String name, byte[] bytes, Reader reader, int[] fields) {
    }

    private static final long[] INTERESTING = {0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 1 << 20,
            Integer.MAX_VALUE - 8, Integer.MAX_VALUE, 0x80000000L, 0xfffffffeL, 0xffffffffL, 0x100000000L, Long.MAX_VALUE - 7,
            Long.MAX_VALUE, Long.MIN_VALUE, -1, -2, 1L << 62, (1L << 53) + 1};
    private static final String[] NUMBERS = {"0", "-1", "1", "2147483647", "2147483648", "4294967296", "9223372036854775807",
            "9223372036854775808", "18446744073709551615", "99999999999999999999999", "1e308", "-9223372036854775808", "65536",
            "1.5", "NaN"};

    static long seed() {
        return Long.getLong("lstm4j.fuzz.seed", DEFAULT_SEED);
    }

    static int cases() {
        return Integer.getInteger("lstm4j.fuzz.cases", DEFAULT_CASES);
    }

    private static byte[] bytes(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new AssertionError("missing fixture " + p, e);
        }
    }

    /** Offsets of the fields of every zip record found: sizes, offsets, counts, name and extra lengths. */
    static int[] zipFields(byte[] b) {
        List<Integer> f = new ArrayList<>();
        for (int i = 0; i + 4 <= b.length; i++) {
            if (b[i] != 'P' || b[i + 1] != 'K') {
                continue;
            }
            int[] rel = switch (b[i + 2] * 16 + b[i + 3]) {
                case 3 * 16 + 4 -> new int[] {6, 8, 14, 18, 22, 26, 28};
                case 16 + 2 -> new int[] {8, 10, 16, 20, 24, 28, 30, 32, 34, 42};
                case 5 * 16 + 6 -> new int[] {4, 8, 10, 12, 16, 20};
                case 6 * 16 + 6 -> new int[] {4, 24, 32, 40, 48};
                case 6 * 16 + 7 -> new int[] {4, 8, 16};
                default -> new int[0];
            };
            for (int r : rel) {
                if (i + r < b.length) {
                    f.add(i + r);
                }
            }
        }
        return f.stream().mapToInt(Integer::intValue).toArray();
    }

    static List<Target> targets() {
        Path fx = Paths.get("src", "test", "resources", "fixtures");
        Path pt = PtFixtures.ROOT;
        List<Target> t = new ArrayList<>();
        Reader weights = WeightsFiles::read;
        byte[] st = bytes(fx.resolve("basic_f32").resolve("model.safetensors"));
        t.add(new Target("safetensors", st, Safetensors::read, new int[] {0, 4}));
        t.add(new Target("safetensors (detected)", bytes(fx.resolve("bidir_layers2_proj").resolve("model.safetensors")), weights, new int[] {0}));
        t.add(new Target("npy", bytes(fx.resolve("basic_f32").resolve("input.npy")), Npy::read, new int[] {6, 8}));
        t.add(new Target("csv", "a,b,c\n1,2.5,nan\n-3e-2,inf,7\n0.125,8,9\n".getBytes(StandardCharsets.UTF_8),
                p -> Csv.read(p, DType.F32), new int[0]));
        for (String f : new String[] {"plain/state_dict.pt", "views/state_dict.pt", "plain/checkpoint.pt", "plain/params.pt",
                "plain/big_endian.pt", "dtypes/dtypes.pt", "plain/model.npz", "plain/model_compressed.npz", "refused/legacy.pt",
                "refused/whole_lstm.pt"}) {
            byte[] b = bytes(pt.resolve(f));
            t.add(new Target(f, b, weights, zipFields(b)));
        }
        // structure-aware: mutate what the zip CRC would otherwise reject, and re-pack with valid CRCs
        t.add(new Target("plain/state_dict.pt data.pkl (re-packed)", entry(pt.resolve("plain/state_dict.pt"), "data.pkl"),
                repacked(pt.resolve("plain/state_dict.pt"), "data.pkl"), new int[0]));
        t.add(new Target("plain/checkpoint.pt data.pkl (re-packed)", entry(pt.resolve("plain/checkpoint.pt"), "data.pkl"),
                repacked(pt.resolve("plain/checkpoint.pt"), "data.pkl"), new int[0]));
        t.add(new Target("dtypes/dtypes.pt data.pkl (re-packed)", entry(pt.resolve("dtypes/dtypes.pt"), "data.pkl"),
                repacked(pt.resolve("dtypes/dtypes.pt"), "data.pkl"), new int[0]));
        t.add(new Target("model.npz entry .npy (re-packed)", entry(pt.resolve("plain/model.npz"), "lstm.weight_ih_l0.npy"),
                repacked(pt.resolve("plain/model.npz"), "lstm.weight_ih_l0.npy"), new int[] {6, 8}));
        for (int proto : new int[] {0, 2, 4}) {
            t.add(new Target("pickle protocol " + proto, bytes(pt.resolve("pickles").resolve("protocol" + proto + ".pkl")),
                    p -> {
                        byte[] b = bytes(p);
                        return RestrictedUnpickler.load(b, 0, b.length, p, "fuzz.pkl", null).value();
                    }, new int[0]));
        }
        return t;
    }

    /** The content of the entry whose name ends with {@code suffix}. */
    private static byte[] entry(Path zipFile, String suffix) {
        Map<String, byte[]> all = unzip(zipFile);
        return all.entrySet().stream().filter(e -> e.getKey().endsWith(suffix)).findFirst().orElseThrow().getValue();
    }

    private static Map<String, byte[]> unzip(Path zipFile) {
        try (var ch = java.nio.channels.FileChannel.open(zipFile)) {
            Zip z = Zip.open(ch, zipFile);
            Map<String, byte[]> m = new LinkedHashMap<>();
            for (Zip.Entry e : z.entries()) {
                m.put(e.name(), z.read(e));
            }
            return m;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** A reader that puts the mutated bytes back as the entry ending with {@code suffix} of a real archive. */
    private static Reader repacked(Path zipFile, String suffix) {
        Map<String, byte[]> all = unzip(zipFile);
        return p -> {
            ZipBuilder b = new ZipBuilder();
            for (Map.Entry<String, byte[]> e : all.entrySet()) {
                b.stored(e.getKey(), e.getKey().endsWith(suffix) ? bytes(p) : e.getValue());
            }
            Path z = p.resolveSibling(p.getFileName() + ".zip");
            try {
                Files.write(z, b.build());
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            return WeightsFiles.read(z);
        };
    }

    /** One mutation of {@code b}, described in {@code what}. */
    static byte[] mutate(byte[] b, int[] fields, SplittableRandom r, StringBuilder what) {
        int kind = r.nextInt(9);
        switch (kind) {
            case 0 -> {
                int n = r.nextInt(b.length);
                what.append("truncate to ").append(n);
                return Arrays.copyOf(b, n);
            }
            case 1 -> {
                byte[] m = b.clone();
                int flips = 1 + r.nextInt(8);
                what.append("flip");
                for (int i = 0; i < flips; i++) {
                    int at = r.nextInt(m.length);
                    int bit = r.nextInt(8);
                    m[at] ^= (byte) (1 << bit);
                    what.append(' ').append(at).append(':').append(bit);
                }
                return m;
            }
            case 2 -> {
                byte[] m = b.clone();
                int at = r.nextInt(m.length);
                m[at] = (byte) r.nextInt(256);
                what.append("byte ").append(at).append('=').append(m[at] & 0xff);
                return m;
            }
            case 3, 4 -> {
                byte[] m = b.clone();
                int width = new int[] {1, 2, 4, 8}[r.nextInt(4)];
                int at = kind == 3 && fields.length > 0 ? fields[r.nextInt(fields.length)] : r.nextInt(m.length);
                long v = INTERESTING[r.nextInt(INTERESTING.length)];
                ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
                for (int i = 0; i < width && at + i < m.length; i++) {
                    m[at + i] = buf.get(i);
                }
                what.append("field ").append(at).append(" (").append(width).append(" bytes) = ").append(v);
                return m;
            }
            case 5 -> {
                // a forged number in a text header (safetensors JSON, npy dict, CSV, pickle text opcodes)
                List<int[]> runs = new ArrayList<>();
                int limit = Math.min(b.length, 1 << 16);
                for (int i = 0; i < limit; i++) {
                    if (b[i] >= '0' && b[i] <= '9') {
                        int j = i;
                        while (j < limit && b[j] >= '0' && b[j] <= '9') {
                            j++;
                        }
                        runs.add(new int[] {i, j});
                        i = j;
                    }
                }
                if (runs.isEmpty()) {
                    what.append("no number; ");
                    return mutate(b, fields, r, what);
                }
                int[] run = runs.get(r.nextInt(runs.size()));
                String num = NUMBERS[r.nextInt(NUMBERS.length)];
                byte[] n = num.getBytes(StandardCharsets.US_ASCII);
                byte[] m = new byte[b.length - (run[1] - run[0]) + n.length];
                System.arraycopy(b, 0, m, 0, run[0]);
                System.arraycopy(n, 0, m, run[0], n.length);
                System.arraycopy(b, run[1], m, run[0] + n.length, b.length - run[1]);
                what.append("number at ").append(run[0]).append(" = ").append(num);
                return m;
            }
            case 6 -> {
                int at = r.nextInt(b.length + 1);
                int n = 1 + r.nextInt(16);
                byte[] ins = new byte[n];
                r.nextBytes(ins);
                byte[] m = new byte[b.length + n];
                System.arraycopy(b, 0, m, 0, at);
                System.arraycopy(ins, 0, m, at, n);
                System.arraycopy(b, at, m, at + n, b.length - at);
                what.append("insert ").append(n).append(" at ").append(at);
                return m;
            }
            case 7 -> {
                int at = r.nextInt(b.length);
                int n = Math.min(1 + r.nextInt(16), b.length - at);
                byte[] m = new byte[b.length - n];
                System.arraycopy(b, 0, m, 0, at);
                System.arraycopy(b, at + n, m, at, b.length - at - n);
                what.append("delete ").append(n).append(" at ").append(at);
                return m;
            }
            default -> {
                int from = r.nextInt(b.length);
                int n = Math.min(1 + r.nextInt(64), b.length - from);
                int to = r.nextInt(b.length - n + 1);
                byte[] m = b.clone();
                System.arraycopy(b, from, m, to, n);
                what.append("copy ").append(n).append(" from ").append(from).append(" to ").append(to);
                return m;
            }
        }
    }

    @Test
    void everyReaderFailsCleanlyOnMutatedFiles() throws IOException {
        run(tmp, seed(), cases());
    }

    /** Mutates every target {@code cases} times from {@code seed}; fails listing the first unclean failures. */
    static void run(Path tmp, long seed, int cases) throws IOException {
        System.out.println("HostileFilesFuzzTest: seed " + seed + ", " + cases + " cases per file (replay with -Dlstm4j.fuzz.seed=" + seed + ")");
        SplittableRandom root = new SplittableRandom(seed);
        List<String> failures = new ArrayList<>();
        int total = 0;
        Path file = tmp.resolve("mutant");
        try (FuzzGuard guard = new FuzzGuard(FuzzGuard.caseLimit())) {
            for (Target t : targets()) {
                SplittableRandom r = root.split();
                for (int c = 0; c < cases; c++) {
                    StringBuilder what = new StringBuilder();
                    byte[] m = mutate(t.bytes(), t.fields(), r, what);
                    int extra = r.nextInt(4) == 0 ? 1 : 0; // sometimes stack a second mutation
                    for (int k = 0; k < extra && m.length > 0; k++) {
                        what.append("; ");
                        m = mutate(m, t.fields(), r, what);
                    }
                    Files.write(file, m);
                    total++;
                    String problem = guard.check(file, m.length, t.reader()::read);
                    if (problem != null) {
                        failures.add(t.name() + " case " + c + " [" + what + "]: " + problem);
                    }
                }
            }
            System.out.printf("HostileFilesFuzzTest: outcomes %s, slowest case %.0f ms%n", guard.outcomes, guard.slowestNanos / 1e6);
        }
        System.out.println("HostileFilesFuzzTest: " + total + " mutants, " + failures.size() + " unclean failures");
        assertTrue(failures.isEmpty(), "seed " + seed + ": " + failures.size() + " of " + total + " mutants failed uncleanly; first:\n"
                + String.join("\n", failures.subList(0, Math.min(5, failures.size()))));
        assertTrue(total >= 5000 || cases < DEFAULT_CASES, "expected thousands of cases, ran " + total);
    }
}
