package dev.lstm4j.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * What this machine can do at all, measured in the same run as the comparison, so the bounds in
 * {@code docs/performance.md} can be checked: one core's FMA rate, one core's read bandwidth from its caches at the
 * sizes of the workloads' weights (W2 reads 320 KB per step, W3 1 MB per step and layer), and the round trip of a
 * cache line between two threads. On the 2-vCPU development VM the round trip flipped between about 70 ns and about
 * 320 ns for minutes at a time (the host placing the two vCPUs near or far apart), which moves every 2-thread result
 * that syncs per step (W2, W3). Median of 5 trials each.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp ... dev.lstm4j.bench.MachineProbe [label] [--round-trip-only]</pre>
 */
public final class MachineProbe {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static volatile int ping, pong;

    private MachineProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        String label = args.length > 0 && !args[0].startsWith("--") ? args[0] : "now";
        boolean roundTripOnly = Arrays.asList(args).contains("--round-trip-only");
        if (!roundTripOnly) {
            System.out.printf("one core (%s): FMA %.0f GFLOP/s; reading 320 KB %.0f GB/s, 1 MB %.0f GB/s (%.0f GB/s alternating"
                            + " direction), 4 MB %.0f GB/s%n", label, fmaRate(), readRate(320, false), readRate(1024, false),
                    readRate(1024, true), readRate(4096, false));
        }
        System.out.println("cross-core round trip (" + label + "): " + roundTripNanos() + " ns");
    }

    /** GFLOP/s of 12 independent FMA chains on one core. */
    static double fmaRate() {
        float[] w = new float[2 * VL];
        Arrays.fill(w, 0.999f);
        int n = 5_000_000;
        double[] rate = new double[5];
        fmaChains(n / 10, w);
        for (int t = 0; t < rate.length; t++) {
            long t0 = System.nanoTime();
            float s = fmaChains(n, w);
            long dt = System.nanoTime() - t0;
            rate[t] = 12.0 * n * 2 * VL / dt + (s == 42f ? 1e-9 : 0);
        }
        return median(rate);
    }

    private static float fmaChains(int n, float[] w) {
        FloatVector a = FloatVector.fromArray(S, w, 0), b = FloatVector.fromArray(S, w, VL);
        FloatVector c0 = a, c1 = b, c2 = a, c3 = b, c4 = a, c5 = b, c6 = a, c7 = b, c8 = a, c9 = b, c10 = a, c11 = b;
        for (int i = 0; i < n; i++) {
            c0 = c0.fma(a, b);
            c1 = c1.fma(a, b);
            c2 = c2.fma(a, b);
            c3 = c3.fma(a, b);
            c4 = c4.fma(a, b);
            c5 = c5.fma(a, b);
            c6 = c6.fma(a, b);
            c7 = c7.fma(a, b);
            c8 = c8.fma(a, b);
            c9 = c9.fma(a, b);
            c10 = c10.fma(a, b);
            c11 = c11.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(VectorOperators.ADD);
    }

    /** GB/s of summing a {@code kb} KB array over and over (every other pass backwards when {@code alternate}). */
    static double readRate(int kb, boolean alternate) {
        float[] a = new float[kb * 256];
        Arrays.fill(a, 1f);
        int blocks = a.length / (8 * VL), passes = Math.max(20, 100_000 / kb);
        double[] rate = new double[5];
        float sink = 0;
        for (int t = 0; t < rate.length + 1; t++) {
            long t0 = System.nanoTime();
            for (int p = 0; p < passes; p++) {
                sink += alternate && (p & 1) == 1 ? sum(a, blocks - 1, -1, -1) : sum(a, 0, blocks, 1);
            }
            long dt = System.nanoTime() - t0;
            if (t > 0) {
                rate[t - 1] = (double) passes * kb * 1024 / dt;
            }
        }
        return median(rate) + (sink == 42f ? 1e-9 : 0);
    }

    private static float sum(float[] a, int from, int to, int step) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        for (int b = from; b != to; b += step) {
            int i = b * 8 * VL;
            s0 = s0.add(FloatVector.fromArray(S, a, i));
            s1 = s1.add(FloatVector.fromArray(S, a, i + VL));
            s2 = s2.add(FloatVector.fromArray(S, a, i + 2 * VL));
            s3 = s3.add(FloatVector.fromArray(S, a, i + 3 * VL));
            s4 = s4.add(FloatVector.fromArray(S, a, i + 4 * VL));
            s5 = s5.add(FloatVector.fromArray(S, a, i + 5 * VL));
            s6 = s6.add(FloatVector.fromArray(S, a, i + 6 * VL));
            s7 = s7.add(FloatVector.fromArray(S, a, i + 7 * VL));
        }
        return s0.add(s1).add(s2).add(s3).add(s4).add(s5).add(s6).add(s7).reduceLanes(VectorOperators.ADD);
    }

    /** Nanoseconds for a value to go to another thread and back, through two volatile fields. */
    static long roundTripNanos() throws InterruptedException {
        int rounds = 200_000;
        double[] ns = new double[5];
        for (int trial = 0; trial < ns.length; trial++) {
            ping = 0;
            pong = 0;
            Thread echo = new Thread(() -> {
                for (int i = 1; i <= rounds; i++) {
                    while (ping != i) {
                        Thread.onSpinWait();
                    }
                    pong = i;
                }
            });
            echo.start();
            long t0 = System.nanoTime();
            for (int i = 1; i <= rounds; i++) {
                ping = i;
                while (pong != i) {
                    Thread.onSpinWait();
                }
            }
            ns[trial] = (double) (System.nanoTime() - t0) / rounds;
            echo.join();
        }
        return Math.round(median(ns));
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
