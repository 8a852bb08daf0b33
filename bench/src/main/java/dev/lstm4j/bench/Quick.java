package dev.lstm4j.bench;

import dev.lstm4j.LstmModel;
import dev.lstm4j.internal.kernel.FastLstm;
import dev.lstm4j.internal.kernel.Kernels;
import dev.lstm4j.internal.kernel.LstmKernels;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A quick timer for trying a change to the fast path, not a substitute for JMH ({@code compare.sh}): the best and
 * the mean of a workload's forward pass (or W2's streaming step) over about 2 s per round, after a warm-up round; or,
 * with {@code gates}, the fused gate pass alone over 64 rows of 512 units. The before/after numbers of
 * {@code docs/performance.md}'s "History" were taken this way.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/classes:$(cat bench/target/classpath.txt) \
 *     dev.lstm4j.bench.Quick W4 1          # workload, threads
 * java ... dev.lstm4j.bench.Quick W4 1 api      # the same through LstmModel.forward
 * java ... dev.lstm4j.bench.Quick gates
 * </pre>
 */
public final class Quick {
    private Quick() {
    }

    public static void main(String[] args) {
        if (args.length == 1 && args[0].equals("gates")) {
            gates();
            return;
        }
        if (args.length != 2 && !(args.length == 3 && args[2].equals("api"))) {
            System.err.println("usage: Quick W1..W5 THREADS [api] | Quick gates");
            System.exit(2);
        }
        Workload w = Workload.valueOf(args[0]);
        int threads = Integer.parseInt(args[1]);
        LstmModel m = w.model();
        FastLstm fast = new FastLstm(m.lstm().config(), m.lstm().cells(), Kernels.get(), threads);
        float[] x = w.input();
        Runnable call;
        String unit;
        if (w.stream) {
            FastLstm.Stream s = fast.stream(1);
            float[] xt = new float[w.config.inputSize()], yt = new float[w.config.outputHiddenSize()];
            int[] i = {0};
            call = () -> {
                System.arraycopy(x, (i[0]++ & 15) * xt.length, xt, 0, xt.length);
                s.step(xt, yt);
            };
            unit = "µs per step";
        } else if (args.length == 3) {
            // the public API on the same model: LstmModel.forward with its Tensor conversions and result tensors
            System.setProperty("lstm4j.threads", Integer.toString(threads));
            LstmModel api = w.model();
            dev.lstm4j.Tensor input = w.read("input.npy");
            call = () -> api.forward(input);
            unit = "µs per pass (public API)";
        } else {
            FastLstm.Workspace ws = fast.workspace(w.batch, w.steps);
            int ld = w.config.numLayers() * w.config.directions(), hh = w.config.outputHiddenSize();
            float[] out = new float[w.batch * w.steps * w.config.outputSize()];
            float[] hN = new float[ld * w.batch * hh], cN = new float[ld * w.batch * w.config.hiddenSize()];
            call = () -> fast.forward(ws, x, null, null, out, hN, cN);
            unit = "µs per pass";
        }
        // calls per timed sample: about 1 ms of work
        long t0 = System.nanoTime();
        call.run();
        int per = (int) Math.max(1, 1_000_000 / Math.max(1, System.nanoTime() - t0));
        for (int round = 0; round < 3; round++) {
            long best = Long.MAX_VALUE, sum = 0;
            int n = 0;
            for (long end = System.nanoTime() + 2_000_000_000L; System.nanoTime() < end; n++) {
                long s = System.nanoTime();
                for (int i = 0; i < per; i++) {
                    call.run();
                }
                long dt = (System.nanoTime() - s) / per;
                best = Math.min(best, dt);
                sum += dt;
            }
            double scale = 1e3;
            System.out.printf(Locale.ROOT, "%s %s, %d thread(s), round %d: best %.3f, mean %.3f %s%n", w, fast, threads, round,
                    best / scale, sum / scale / n, unit);
        }
    }

    /** The gate pass of 64 rows of 512 units in the fast path's chunked layout. */
    private static void gates() {
        LstmKernels k = Kernels.get();
        int hidden = 512, rows = 64, n = 4 * hidden;
        float[] z0 = new float[rows * n], z = new float[rows * n], c = new float[rows * hidden], h = new float[rows * hidden];
        SplittableRandom rnd = new SplittableRandom(3);
        for (int i = 0; i < z0.length; i++) {
            z0[i] = (float) rnd.nextDouble(-4, 4);
        }
        for (int round = 0; round < 5; round++) {
            long best = Long.MAX_VALUE;
            for (int it = 0; it < 200; it++) {
                System.arraycopy(z0, 0, z, 0, z.length);
                long t0 = System.nanoTime();
                for (int r = 0; r < rows; r++) {
                    k.gates(z, r * n, hidden, 16, c, r * hidden, h, r * hidden);
                }
                best = Math.min(best, System.nanoTime() - t0);
            }
            System.out.printf(Locale.ROOT, "gate pass (%s): %.2f ns per unit%n", k.name(), best / (double) (rows * hidden));
        }
    }
}
