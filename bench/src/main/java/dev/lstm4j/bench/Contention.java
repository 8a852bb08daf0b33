package dev.lstm4j.bench;

import dev.lstm4j.CellWeights;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmSession;
import dev.lstm4j.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The public API at 2 threads against 1 thread, on W2..W5 and a batch-1 sweep, for {@code bench/contention.sh}, which
 * runs it with the JVM pinned to one CPU, and beside a busy loop pinned to one of the JVM's CPUs. Issue 12's target:
 * 2 threads never slower than 1.1× the 1-thread time. Each case builds two {@link Lstm}s over the same random weights
 * (seeded), one with {@code -Dlstm4j.threads=1} and one with 2, and times them in alternating rounds of about
 * {@code roundMillis} each (5 rounds each after one warm-up round; the median of the rounds' mean call times), so that
 * both see the same machine. W2 is a {@link LstmSession} step; the others are {@link Lstm#forward}.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp ... dev.lstm4j.bench.Contention [label] [roundMillis] [case regex]
 * </pre>
 */
public final class Contention {
    private Contention() {
    }

    /** One case: a name, a config, batch and steps (0 steps: a streaming step). */
    record Case(String name, LstmConfig config, int batch, int steps) {
    }

    static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        for (Workload w : new Workload[] {Workload.W2, Workload.W3, Workload.W4, Workload.W5}) {
            cases.add(new Case(w.name(), w.config, w.batch, w.stream ? 0 : w.steps));
        }
        // batch 1, the case the column split serves: I=64, T=100, H from small to large
        for (int h : new int[] {64, 128, 256, 512, 1024}) {
            cases.add(new Case("B1 H" + h + " L2", new LstmConfig(64, h, 2, false, 0, true), 1, 100));
        }
        return cases;
    }

    public static void main(String[] args) {
        String label = args.length > 0 ? args[0] : "as is";
        long roundNanos = (args.length > 1 ? Long.parseLong(args[1]) : 400) * 1_000_000L;
        System.out.printf(Locale.ROOT, "%n%s: %d processor(s) available to the JVM%n", label, Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "| case | 1 thread | 2 threads | 2 / 1 | target ≤ 1.1× |%n|---|---|---|---|---|%n");
        String only = args.length > 2 ? args[2] : ".*";
        for (Case c : cases()) {
            if (!c.name.matches(only)) {
                continue;
            }
            List<CellWeights> cells = randomCells(c.config, new SplittableRandom(42));
            Runnable one = call(c, cells, 1), two = call(c, cells, 2);
            // warm up until both are compiled: at least 3 s each (the vector kernels run interpreted until C2 is done)
            time(one, 3_000_000_000L);
            time(two, 3_000_000_000L);
            long[] t1 = new long[5], t2 = new long[5];
            for (int round = -1; round < 5; round++) {
                long a = time(one, roundNanos), b = time(two, roundNanos);
                if (round >= 0) {
                    t1[round] = a;
                    t2[round] = b;
                }
            }
            Arrays.sort(t1);
            Arrays.sort(t2);
            double r = t2[2] / (double) t1[2];
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %.2f× | %s |%n", c.name, fmt(t1[2]), fmt(t2[2]), r, r <= 1.1 ? "met" : "MISSED");
        }
    }

    /** The case's call on a model built with {@code threads}. */
    static Runnable call(Case c, List<CellWeights> cells, int threads) {
        String before = System.getProperty("lstm4j.threads");
        System.setProperty("lstm4j.threads", Integer.toString(threads));
        Lstm lstm = new Lstm(c.config, cells);
        if (before == null) {
            System.clearProperty("lstm4j.threads");
        } else {
            System.setProperty("lstm4j.threads", before);
        }
        SplittableRandom rnd = new SplittableRandom(7);
        if (c.steps == 0) {
            LstmSession session = new LstmSession(lstm);
            float[][] xs = new float[16][c.config.inputSize()];
            for (float[] x : xs) {
                fill(x, rnd);
            }
            float[] out = new float[c.config.outputHiddenSize()];
            int[] i = {0};
            return () -> session.step("", xs[i[0]++ & 15], out);
        }
        float[] x = new float[c.batch * c.steps * c.config.inputSize()];
        fill(x, rnd);
        Tensor input = Tensor.of(new int[] {c.batch, c.steps, c.config.inputSize()}, x);
        return () -> lstm.forward(input);
    }

    /** Mean nanoseconds per call over about {@code nanos}. */
    static long time(Runnable call, long nanos) {
        long start = System.nanoTime(), end = start + nanos, n = 0, now;
        do {
            call.run();
            n++;
            now = System.nanoTime();
        } while (now < end);
        return (now - start) / n;
    }

    static String fmt(long nanos) {
        return nanos >= 1_000_000 ? String.format(Locale.ROOT, "%.2f ms", nanos / 1e6) : String.format(Locale.ROOT, "%.2f µs", nanos / 1e3);
    }

    static void fill(float[] a, SplittableRandom rnd) {
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
        }
    }

    /** Random weights in PyTorch's init range ±1/sqrt(H). */
    static List<CellWeights> randomCells(LstmConfig c, SplittableRandom rnd) {
        List<CellWeights> cells = new ArrayList<>();
        float k = (float) (1 / Math.sqrt(c.hiddenSize()));
        int h4 = 4 * c.hiddenSize(), hh = c.outputHiddenSize();
        for (int l = 0; l < c.numLayers(); l++) {
            for (int d = 0; d < c.directions(); d++) {
                cells.add(new CellWeights(tensor(rnd, k, h4, c.layerInputSize(l)), tensor(rnd, k, h4, hh), tensor(rnd, k, h4),
                        tensor(rnd, k, h4), c.projSize() > 0 ? tensor(rnd, k, c.projSize(), c.hiddenSize()) : null));
            }
        }
        return cells;
    }

    static Tensor tensor(SplittableRandom rnd, float scale, int... shape) {
        float[] v = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextDouble(-scale, scale);
        }
        return Tensor.of(shape, v);
    }
}
