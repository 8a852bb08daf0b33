package dev.lstm4j.internal.io;

import dev.lstm4j.DType;
import dev.lstm4j.internal.Names;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Structure-aware fuzzing of every reader and of {@link ModelLoader} on what the readers accept.
 *
 * <p>Each case draws an LSTM state dict (layers, directions, projection, bias, head), damages it the way
 * the hostile files found did (layer indices like {@code _l99999999999}, integer weights, hostile names
 * with ANSI escapes, newlines and 10,000 characters, {@code "Aa"}/{@code "BB"} hash collisions), and
 * writes it as safetensors (gaps, trailing bytes, overlaps, duplicate and {@code __metadata__} names,
 * shapes past 2^31 elements or 2 GiB), as a {@code torch.save} pickle graph (shared storages named with
 * two dtypes, stride-0 views, deep shared tuple keys, thousands of colliding keys, checkpoint nesting)
 * or as an {@code .npz} (deflated, forged sizes, duplicate header keys). {@link FuzzGuard} runs each case
 * with a time limit and a byte budget and checks the messages.
 *
 * <p>The normal run is short; {@code StructuredFuzzIT} runs for a time budget. Replay or explore with
 * {@code -Dlstm4j.fuzz.seed=S -Dlstm4j.fuzz.seconds=T -Dlstm4j.fuzz.cases=N}.
 */
class StructuredFuzzTest {
    static final long DEFAULT_SEED = 0x5eed_2026_1202L;

    @TempDir
    Path tmp;

    @Test
    void readersAndLoaderStayBoundedOnStructuredHostileFiles() throws IOException {
        long seed = Long.getLong("lstm4j.fuzz.seed", DEFAULT_SEED);
        run(tmp, seed, Integer.getInteger("lstm4j.fuzz.cases", 1200), Duration.ofSeconds(Long.getLong("lstm4j.fuzz.seconds", 20)));
    }

    /** Runs up to {@code cases} cases from {@code seed}, stopping when {@code budget} is spent; fails listing the first problems. */
    static void run(Path tmp, long seed, int cases, Duration budget) throws IOException {
        System.out.println("StructuredFuzzTest: seed " + seed + ", up to " + cases + " cases, time budget " + budget.toSeconds() + " s, "
                + FuzzGuard.caseLimit().toSeconds() + " s per case (replay with -Dlstm4j.fuzz.seed=" + seed + ")");
        SplittableRandom r = new SplittableRandom(seed);
        List<String> failures = new ArrayList<>();
        long start = System.nanoTime();
        int ran = 0;
        Map<String, Integer> byFormat = new LinkedHashMap<>();
        Map<Expect, Integer> expectations = new java.util.EnumMap<>(Expect.class);
        // -Dlstm4j.fuzz.dump=DIR keeps every case and lstm4j's verdict for tools/pytorch/fuzz_differential.py
        Path dump = System.getProperty("lstm4j.fuzz.dump") == null ? null : Path.of(System.getProperty("lstm4j.fuzz.dump"));
        if (dump != null) {
            Files.createDirectories(dump);
            System.out.println("StructuredFuzzTest: writing every case to " + dump);
        }
        try (FuzzGuard guard = new FuzzGuard(FuzzGuard.caseLimit())) {
            int maxFailures = Integer.getInteger("lstm4j.fuzz.maxFailures", 5);
            for (int c = 0; c < cases && System.nanoTime() - start < budget.toNanos() && failures.size() < maxFailures; c++) {
                StringBuilder what = new StringBuilder();
                Case k = generate(r, what);
                Path file = tmp.resolve("case" + (c % 4) + k.suffix());
                Files.write(file, k.bytes());
                String problem = guard.check(file, k.bytes().length, WeightsFiles::read);
                byFormat.merge(k.suffix(), 1, Integer::sum);
                if (problem == null && k.expect() == Expect.REFUSE && !guard.lastOutcome.endsWith("FileFormatException")
                        && !guard.lastOutcome.equals("RefusedGlobal")) {
                    problem = "accepted a file the reference readers refuse or lstm4j must refuse (" + guard.lastOutcome + ")";
                }
                if (problem == null && k.expect() == Expect.LOAD && !guard.lastOutcome.equals("model")) {
                    problem = "refused an honest file (" + guard.lastOutcome + ")";
                }
                expectations.merge(k.expect(), 1, Integer::sum);
                if (dump != null) {
                    String name = "case-" + c + k.suffix();
                    Files.write(dump.resolve(name), k.bytes());
                    StringBuilder line = new StringBuilder("{\"file\": ");
                    Json.quote(line, name);
                    line.append(", \"expect\": \"").append(k.expect()).append("\", \"outcome\": ");
                    Json.quote(line, guard.lastOutcome);
                    line.append(", \"message\": ");
                    Json.quote(line, guard.lastMessage);
                    line.append(", \"what\": ");
                    Json.quote(line, Names.safe(what.toString(), 400));
                    Files.writeString(dump.resolve("cases.jsonl"), line.append("}\n"), StandardCharsets.UTF_8,
                            java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                }
                ran++;
                if (guard.lastNanos > 1_000_000_000L) {
                    System.out.printf("StructuredFuzzTest: slow case %d (%.1f s, %d bytes) [%s]%n", c, guard.lastNanos / 1e9,
                            k.bytes().length, Names.safe(what.toString(), 300));
                }
                if (problem != null) {
                    failures.add("case " + c + " (" + k.bytes().length + " bytes) [" + what + "]: " + problem);
                }
            }
            System.out.printf("StructuredFuzzTest: %d cases in %.1f s (%s; expected %s), slowest %.0f ms, outcomes %s, %d problems%n",
                    ran, (System.nanoTime() - start) / 1e9, byFormat, expectations, guard.slowestNanos / 1e6, guard.outcomes, failures.size());
        }
        assertTrue(failures.isEmpty(), "seed " + seed + ": " + failures.size() + " cases failed; first:\n" + String.join("\n", failures));
        assertTrue(ran >= Math.min(cases, 100), "seed " + seed + ": only " + ran + " cases ran in the time budget");
    }

    /**
     * What a case must do. REFUSE: the generator put in something the reference readers refuse (safetensors
     * gaps, trailing bytes, overlaps, a {@code __metadata__} tensor; a storage of two dtypes, which
     * {@code torch.load} would misread) or that lstm4j must refuse (an .npy header with a key twice, a forged
     * entry size, a key nested past 32 tuples, a shape past 2 GiB). LOAD: nothing was damaged, so the model
     * must load. ANY: either, cleanly.
     */
    enum Expect {
        REFUSE, LOAD, ANY
    }

    /** What the generator did to one file. */
    static final class Plan {
        boolean damaged;
        boolean refuse;
    }

    /** A generated file: its bytes, the suffix of its format, and what reading it must do. */
    record Case(byte[] bytes, String suffix, Expect expect) {
    }

    /** One tensor of the generated state dict. */
    static final class T {
        String name;
        DType dtype;
        long[] shape;

        T(String name, DType dtype, long... shape) {
            this.name = name;
            this.dtype = dtype;
            this.shape = shape;
        }

        long numel() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    static final String[] HOSTILE = {"\u001b[31mred\u001b[0m", "line\nbreak", "\r\n", "tab\there", "\u202egnp.exe", "\u0000nul",
            "\u009b2J", "\ud800", "__metadata__", "", "x".repeat(10_000), "\u001b]0;title\u0007"};

    static Case generate(SplittableRandom r, StringBuilder what) {
        Plan plan = new Plan();
        List<T> sd = model(r, what);
        plan.damaged = damage(sd, r, what);
        byte[] bytes;
        String suffix;
        switch (r.nextInt(3)) {
            case 0 -> {
                what.append("; safetensors");
                bytes = Safe.write(sd, r, what, plan);
                suffix = ".safetensors";
            }
            case 1 -> {
                what.append("; pt");
                bytes = Pt.write(sd, r, what, plan);
                suffix = ".pt";
            }
            default -> {
                what.append("; npz");
                bytes = NpzGen.write(sd, r, what, plan);
                suffix = ".npz";
            }
        }
        return new Case(bytes, suffix, plan.refuse ? Expect.REFUSE : plan.damaged ? Expect.ANY : Expect.LOAD);
    }

    /** A valid nn.LSTM state dict (and head), small. */
    static List<T> model(SplittableRandom r, StringBuilder what) {
        int in = 1 + r.nextInt(4), h = 1 + r.nextInt(4), layers = 1 + r.nextInt(2);
        boolean bidir = r.nextBoolean(), bias = r.nextInt(4) > 0;
        int proj = h > 1 && r.nextInt(4) == 0 ? 1 + r.nextInt(h - 1) : 0; // PyTorch: proj_size < hidden_size
        String prefix = new String[] {"lstm.", "", "rnn.", "encoder.lstm.", "\u001b[1mx.", "a\nb."}[r.nextInt(6)];
        DType dt = new DType[] {DType.F32, DType.F32, DType.F64, DType.F16, DType.BF16}[r.nextInt(5)];
        what.append(String.format("lstm I=%d H=%d L=%d bidir=%b proj=%d bias=%b %s prefix '%s'", in, h, layers, bidir, proj, bias, dt, Names.safe(prefix)));
        List<T> t = new ArrayList<>();
        int out = proj > 0 ? proj : h;
        for (int l = 0; l < layers; l++) {
            for (int d = 0; d < (bidir ? 2 : 1); d++) {
                String s = "_l" + l + (d == 1 ? "_reverse" : "");
                int inputs = l == 0 ? in : out * (bidir ? 2 : 1);
                t.add(new T(prefix + "weight_ih" + s, dt, 4L * h, inputs));
                t.add(new T(prefix + "weight_hh" + s, dt, 4L * h, out));
                if (bias) {
                    t.add(new T(prefix + "bias_ih" + s, dt, 4L * h));
                    t.add(new T(prefix + "bias_hh" + s, dt, 4L * h));
                }
                if (proj > 0) {
                    t.add(new T(prefix + "weight_hr" + s, dt, proj, h));
                }
            }
        }
        if (r.nextBoolean()) {
            t.add(new T("fc.weight", dt, 2, (long) out * (bidir ? 2 : 1)));
            t.add(new T("fc.bias", dt, 2));
        }
        return t;
    }

    /** Zero to three of the damages the hostile files did; true when there was one. */
    static boolean damage(List<T> sd, SplittableRandom r, StringBuilder what) {
        int n = r.nextInt(4);
        for (int i = 0; i < n; i++) {
            T t = sd.get(r.nextInt(sd.size()));
            switch (r.nextInt(8)) {
                case 0 -> {
                    String idx = new String[] {"99999999999", "1000000", "65537", "2147483648", "3", "01", "9".repeat(40)}[r.nextInt(7)];
                    String name = t.name.replaceAll("_l\\d+", "_l" + idx);
                    what.append("; layer index ").append(idx);
                    sd.add(new T(name.equals(t.name) ? t.name + "_l" + idx : name, t.dtype, t.shape.clone()));
                }
                case 1 -> {
                    t.dtype = new DType[] {DType.I64, DType.I32, DType.U8, DType.BOOL, DType.F64}[r.nextInt(5)];
                    what.append("; ").append(t.name.length() > 40 ? "a tensor" : t.name).append(" as ").append(t.dtype);
                }
                case 2 -> {
                    String h = HOSTILE[r.nextInt(HOSTILE.length)];
                    what.append("; hostile name");
                    sd.add(new T(r.nextBoolean() ? h : t.name.substring(0, t.name.lastIndexOf('.') + 1) + h, t.dtype, 1));
                }
                case 3 -> {
                    what.append("; colliding names");
                    for (String s : HostilePickles.collidingStrings(1 + r.nextInt(64))) {
                        sd.add(new T("lstm." + s, DType.F32, 1));
                    }
                }
                case 4 -> {
                    if (t.shape.length > 0) {
                        t.shape[r.nextInt(t.shape.length)] += r.nextBoolean() ? 1 : -1;
                        what.append("; a dimension off by one");
                    }
                }
                case 5 -> {
                    what.append("; a tensor removed");
                    sd.remove(t);
                    if (sd.isEmpty()) {
                        sd.add(new T("w", DType.F32, 1));
                    }
                }
                case 6 -> {
                    what.append("; weight_hh dropped to a cell");
                    t.name = t.name.replaceAll("_l\\d+(_reverse)?$", "");
                }
                default -> {
                    what.append("; duplicate name");
                    sd.add(new T(t.name, t.dtype, t.shape.clone()));
                }
            }
        }
        return n > 0;
    }

    /** The bytes of a tensor: random, so NaN and infinity turn up too. */
    static byte[] data(SplittableRandom r, long bytes) {
        byte[] b = new byte[(int) Math.max(0, Math.min(bytes, 1 << 20))];  // a mutated shape can overflow to a negative size
        r.nextBytes(b);
        return b;
    }

    /** safetensors headers: honest, or with gaps, trailing bytes, overlaps, huge shapes, duplicate keys, a __metadata__ tensor. */
    static final class Safe {
        static byte[] write(List<T> sd, SplittableRandom r, StringBuilder what, Plan plan) {
            StringBuilder json = new StringBuilder("{");
            if (r.nextInt(3) == 0) {
                json.append("\"__metadata__\":{\"format\":\"pt\"},");
            }
            java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
            int layout = r.nextInt(8);
            what.append(switch (layout) {
                case 0 -> " with a gap";
                case 1 -> " with trailing bytes";
                case 2 -> " with an overlap";
                case 3 -> " with a huge shape";
                case 4 -> " with a __metadata__ tensor";
                default -> "";
            });
            plan.refuse |= layout <= 4 && layout != 2;
            int gapAt = r.nextInt(sd.size());
            for (int i = 0; i < sd.size(); i++) {
                T t = sd.get(i);
                if (layout == 0 && i == gapAt) {
                    data.writeBytes(new byte[1 + r.nextInt(8)]);
                }
                long begin = data.size();
                long bytes = t.numel() * t.dtype.bytes();
                plan.refuse |= bytes < 0;  // the element count overflowed: no reader may accept the declared offsets
                long[] shape = t.shape;
                if (layout == 3 && i == gapAt) {
                    shape = new long[][] {{300_000_000L}, {1L << 31}, {1L << 40, 1L << 40}, {65536, 65536}, {Long.MAX_VALUE}}[r.nextInt(5)];
                }
                data.writeBytes(data(r, bytes));
                long end = begin + bytes;
                if (layout == 2 && i == gapAt && begin > 0) {
                    plan.refuse |= bytes > 0; // shifted back one byte: an overlap, and a gap behind it (an empty tensor moves harmlessly)
                    begin--;
                    end--;
                }
                if (json.charAt(json.length() - 1) != '{' && json.charAt(json.length() - 1) != ',') {
                    json.append(',');
                }
                json.append('"').append(escape(layout == 4 && i == gapAt ? "__metadata__" : t.name)).append("\":{\"dtype\":\"")
                        .append(t.dtype.name()).append("\",\"shape\":[");
                for (int d = 0; d < shape.length; d++) {
                    json.append(d == 0 ? "" : ",").append(shape[d]);
                }
                json.append("],\"data_offsets\":[").append(begin).append(',').append(end).append("]}");
            }
            if (layout == 1) {
                data.writeBytes(new byte[1 + r.nextInt(16)]);
            }
            json.append('}');
            byte[] h = json.toString().getBytes(StandardCharsets.UTF_8);
            byte[] d = data.toByteArray();
            ByteBuffer b = ByteBuffer.allocate(8 + h.length + d.length).order(ByteOrder.LITTLE_ENDIAN);
            return b.putLong(h.length).put(h).put(d).array();
        }

        static String escape(String s) {
            StringBuilder b = new StringBuilder();
            for (char c : s.toCharArray()) {
                if (c < 0x20 || c == '"' || c == '\\' || Character.isSurrogate(c)) {
                    b.append(String.format("\\u%04x", (int) c));
                } else {
                    b.append(c);
                }
            }
            return b.toString();
        }
    }

    /** torch.save archives: a pickle graph over storages, some shared, some named twice, views, hostile keys and checkpoints. */
    static final class Pt {
        static final Map<DType, String> STORAGE = Map.of(DType.F32, "FloatStorage", DType.F64, "DoubleStorage", DType.F16, "HalfStorage",
                DType.BF16, "BFloat16Storage", DType.I64, "LongStorage", DType.I32, "IntStorage", DType.U8, "ByteStorage",
                DType.BOOL, "BoolStorage");

        static byte[] write(List<T> sd, SplittableRandom r, StringBuilder what, Plan plan) {
            PickleWriter w = new PickleWriter().proto(2);
            int wrap = r.nextInt(4);
            if (wrap > 0) {
                what.append(" in a checkpoint");
                w.op('}').str("epoch").integer(r.nextInt(100)).op('s');
                if (wrap == 2) {
                    int depth = new int[] {8, 20, 31, 33, 200}[r.nextInt(5)];
                    what.append(" with a shared tuple chain key of depth ").append(depth);
                    plan.refuse |= depth > RestrictedUnpickler.MAX_KEY_DEPTH;
                    w.str("junk").op('}').str("leaf");
                    for (int i = 0; i < depth; i++) {
                        w.op('q', 0, 'h', 0, 0x86); // BINPUT 0, BINGET 0, TUPLE2: (t, t), as torch's unpickler reads too
                    }
                    w.op('N', 's', 's');
                }
                if (wrap == 3) {
                    int n = 1 + r.nextInt(20_000);
                    boolean tuples = r.nextBoolean();
                    what.append(" with ").append(n).append(tuples ? " colliding tuple keys" : " colliding keys");
                    w.str("junk").op('}').mark();
                    for (String s : HostilePickles.collidingStrings(n)) {
                        w.str(s);
                        if (tuples) {
                            w.op(0x85);
                        }
                        w.op('N');
                    }
                    w.op('u', 's');
                }
                w.str("model");
            }
            w.global("collections", "OrderedDict").op(')', 'R');
            Map<String, byte[]> storages = new LinkedHashMap<>();
            int twoDtypes = r.nextInt(6) == 0 ? r.nextInt(sd.size()) : -1;
            int strideZero = r.nextInt(6) == 0 ? r.nextInt(sd.size()) : -1;
            DType firstDtype = null;
            for (int i = 0; i < sd.size(); i++) {
                T t = sd.get(i);
                String key = String.valueOf(i);
                long numel = Math.max(1, t.numel());
                long[] size = t.shape;
                long[] stride = new long[size.length];
                long s = 1;
                for (int d = size.length - 1; d >= 0; d--) {
                    stride[d] = s;
                    s *= size[d];
                }
                DType dtype = STORAGE.containsKey(t.dtype) ? t.dtype : DType.F32;
                if (i == 0) {
                    firstDtype = dtype;
                }
                if (i == twoDtypes && i > 0) {
                    dtype = firstDtype == DType.F64 ? DType.F32 : DType.F64; // not storage 0's dtype
                    what.append("; storage 0 named again as ").append(dtype);
                    plan.refuse = true;
                    key = "0";
                    numel = storages.get("0").length / dtype.bytes();
                    size = new long[] {numel};
                    stride = new long[] {1};
                } else if (i == strideZero) {
                    long big = new long[] {1 << 10, 1 << 22, 1L << 30, 1L << 31}[r.nextInt(4)];
                    what.append("; a stride-0 view of ").append(big).append(" elements");
                    plan.damaged = true;
                    size = new long[] {big};
                    stride = new long[] {0};
                } else {
                    storages.put(key, data(r, numel * dtype.bytes()));
                }
                if (!storages.containsKey(key)) {
                    storages.put(key, data(r, numel * dtype.bytes()));
                }
                w.str(t.name).tensor(STORAGE.get(dtype), key, numel, 0, size, stride).op('s');
            }
            if (wrap > 0) {
                w.op('s');
            }
            return PickleWriter.ptFile(w.stop().bytes(), storages);
        }
    }

    /** .npz archives of .npy entries: stored or deflated, forged sizes, duplicate or extra header keys. */
    static final class NpzGen {
        static byte[] write(List<T> sd, SplittableRandom r, StringBuilder what, Plan plan) {
            ZipBuilder z = new ZipBuilder();
            boolean deflate = r.nextBoolean();
            int forged = r.nextInt(6) == 0 ? r.nextInt(sd.size()) : -1;
            int header = r.nextInt(6) == 0 ? r.nextInt(sd.size()) : -1;
            java.util.Set<String> names = new java.util.HashSet<>();
            for (int i = 0; i < sd.size(); i++) {
                T t = sd.get(i);
                if (!names.add(t.name)) {
                    continue; // the zip writer would write two entries of one name; Zip refuses those, tested elsewhere
                }
                if (t.dtype == DType.BF16) {
                    plan.damaged = true; // NumPy has no bfloat16: refused, as documented
                }
                String descr = switch (t.dtype) {
                    case F32 -> "<f4";
                    case F64 -> "<f8";
                    case F16 -> "<f2";
                    case I64 -> "<i8";
                    case I32 -> "<i4";
                    case U8 -> "|u1";
                    case BOOL -> "|b1";
                    default -> "<V2";
                };
                StringBuilder shape = new StringBuilder("(");
                for (long d : t.shape) {
                    shape.append(d).append(", ");
                }
                shape.append(')');
                String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", "
                        + (i == header ? "'shape': (" + (t.numel() + 1) + ",), " : "") + "}";
                if (i == header) {
                    what.append("; an npy header with 'shape' twice");
                    plan.refuse = true;
                }
                String head = dict + " ".repeat(Math.max(0, 118 - dict.length())) + "\n";
                byte[] hb = head.getBytes(StandardCharsets.ISO_8859_1);
                byte[] body = data(r, t.numel() * t.dtype.bytes());
                ByteBuffer b = ByteBuffer.allocate(10 + hb.length + body.length).order(ByteOrder.LITTLE_ENDIAN);
                b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) hb.length).put(hb).put(body);
                ZipBuilder.Entry e = deflate ? z.deflated(t.name + ".npy", b.array()) : z.stored(t.name + ".npy", b.array());
                if (i == forged) {
                    long size = new long[] {1L << 31, 1L << 40, b.capacity() + 1L, 0}[r.nextInt(4)];
                    what.append("; an entry declaring ").append(size).append(" bytes");
                    plan.refuse = true;
                    e.declaredSize = size;
                }
            }
            what.append(deflate ? " deflated" : " stored");
            return z.build();
        }
    }
}
