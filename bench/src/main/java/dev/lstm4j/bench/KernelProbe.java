package dev.lstm4j.bench;

import dev.lstm4j.internal.kernel.Kernels;
import dev.lstm4j.internal.kernel.LstmKernels;
import dev.lstm4j.internal.kernel.PackedMatrix;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The batched step product alone, timed in the calling thread's CPU time (steadier than wall time on a shared
 * machine): W4's [x_t | h_{t-1}] · W_catᵀ (at batch 1, x_t · W_ihᵀ + h_{t-1} · W_hhᵀ), 64 rows, depth 128 + 512, 2048 outputs. For comparing kernel variants, e.g.
 * {@code -Dlstm4j.tileRows=4|6|8}.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp ... dev.lstm4j.bench.KernelProbe [rows] [seconds] [inputs] [hidden]</pre>
 */
public final class KernelProbe {
    private KernelProbe() {
    }

    public static void main(String[] args) {
        int m = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 3;
        int k1 = args.length > 2 ? Integer.parseInt(args[2]) : 128;
        int k = k1 + (args.length > 3 ? Integer.parseInt(args[3]) : 512);
        int n = 4 * (k - k1);
        LstmKernels kern = Kernels.get();
        SplittableRandom rnd = new SplittableRandom(1);
        float[] w = new float[n * k], a = new float[m * k1], h = new float[m * (k - k1)], bias = new float[n], c = new float[m * n];
        for (float[] v : new float[][] {w, a, h, bias}) {
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) rnd.nextDouble(-1, 1);
            }
        }
        PackedMatrix p = kern.pack(w, n, k);
        float[] wIn = new float[n * k1], wHid = new float[n * (k - k1)];
        for (int j = 0; j < n; j++) {
            System.arraycopy(w, j * k, wIn, j * k1, k1);
            System.arraycopy(w, j * k + k1, wHid, j * (k - k1), k - k1);
        }
        PackedMatrix pIn = kern.pack(wIn, n, k1), pHid = kern.pack(wHid, n, k - k1);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        double flop = 2.0 * m * n * k;
        for (int round = 0; round < 4; round++) {
            long cpu0 = mx.getCurrentThreadCpuTime(), wall0 = System.nanoTime(), calls = 0;
            do {
                if (m == 1) {
                    // batch 1 runs the two products apart (FastLstm fuses them only from 16 rows)
                    kern.gemm(a, 0, k1, 1, pIn, bias, c, 0, n, false);
                    kern.gemm(h, 0, k - k1, 1, pHid, null, c, 0, n, true);
                } else {
                    kern.gemm2(a, 0, k1, k1, h, 0, k - k1, m, p, bias, c, 0, n);
                }
                calls++;
            } while (mx.getCurrentThreadCpuTime() - cpu0 < seconds * 1e9);
            long cpu = mx.getCurrentThreadCpuTime() - cpu0, wall = System.nanoTime() - wall0;
            System.out.printf(Locale.ROOT, "%s m=%d k=%d n=%d: %.1f GFLOP per CPU second (%.1f per wall second)%s%n", kern.name(), m, k, n,
                    flop * calls / cpu, flop * calls / wall, round == 0 ? " [warm-up]" : "");
        }
    }
}
