package dev.lstm4j.train;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The training loop on the fast path, whose steps reuse their buffers: the same losses as on the reference path (within
 * float32 summation error) through truncated BPTT, a last batch smaller than the others, a validation set and every-step
 * targets; and the same model bit for bit from the same seed, whatever the thread count (products are split by output
 * columns, so no sum changes order).
 */
class FastTrainingTest {
    record Setup(TrainableLstm model, Trainer trainer, Dataset train, Dataset val) {
    }

    static Setup setup(long seed, boolean fast, int threads, int batch, boolean everyStep, int tbptt) {
        int in = 6, hidden = 64, t = 12, n = 2 * batch + 3;
        TrainableLstm m = TrainableLstm.create(new LstmConfig(in, hidden, 2, false, 0, true), 2, 0.2, Precision.F32, seed);
        m.setFastPath(fast);
        m.setThreads(threads);
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n * t * in], y = new double[n * (everyStep ? t : 1) * 2];
        for (int k = 0; k < x.length; k++) {
            x[k] = (float) r.nextGaussian();
        }
        for (int k = 0; k < y.length; k++) {
            y[k] = (float) r.nextGaussian();
        }
        Dataset train = everyStep ? Dataset.everyStep(x, y, n, t, in, 2) : Dataset.lastStep(x, y, n, t, in, 2);
        double[] vx = java.util.Arrays.copyOf(x, 5 * t * in), vy = java.util.Arrays.copyOf(y, 5 * (everyStep ? t : 1) * 2);
        Dataset val = everyStep ? Dataset.everyStep(vx, vy, 5, t, in, 2) : Dataset.lastStep(vx, vy, 5, t, in, 2);
        Trainer tr = new Trainer(m, new Adam(m.parameters(), m.precision(), Adam.Options.adam(1e-2)), Loss.mse(Reduction.MEAN),
                Trainer.Options.defaults().withEpochs(3).withBatchSize(batch).withTbptt(tbptt).withSeed(seed));
        return new Setup(m, tr, train, val);
    }

    @Test
    void theFastLoopFollowsTheReferenceLoop() {
        long seed = 0xfa57_7a1aL;
        System.out.println("fast training loop: seed " + seed);
        for (boolean everyStep : new boolean[] {false, true}) {
            for (int tbptt : new int[] {0, 5}) {
                Setup ref = setup(seed, false, 1, 8, everyStep, tbptt), fast = setup(seed, true, 2, 8, everyStep, tbptt);
                List<Trainer.Epoch> a = ref.trainer().fit(ref.train(), ref.val(), null);
                List<Trainer.Epoch> b = fast.trainer().fit(fast.train(), fast.val(), null);
                assertEquals(a.size(), b.size());
                for (int e = 0; e < a.size(); e++) {
                    String label = "everyStep=" + everyStep + " tbptt=" + tbptt + " epoch " + (e + 1);
                    close(label + " train loss", a.get(e).trainLoss(), b.get(e).trainLoss());
                    close(label + " validation loss", a.get(e).valLoss(), b.get(e).valLoss());
                }
            }
        }
    }

    static void close(String label, double expected, double actual) {
        if (!(Math.abs(expected - actual) <= 1e-4 * Math.max(1, Math.abs(expected)))) {
            fail(label + ": reference " + expected + ", fast " + actual);
        }
    }

    @Test
    void theSameSeedGivesTheSameBitsAtAnyThreadCount() {
        long seed = 0x5eedL;
        System.out.println("fast training determinism: seed " + seed);
        for (int batch : new int[] {1, 8}) {
            double[][] one = weights(seed, 1, batch), again = weights(seed, 1, batch), two = weights(seed, 2, batch);
            double[][] other = weights(seed + 1, 1, batch);
            for (int p = 0; p < one.length; p++) {
                assertArrayEquals(one[p], again[p], "batch " + batch + ": the same seed, parameter " + p);
                assertArrayEquals(one[p], two[p], "batch " + batch + ": 1 and 2 threads, parameter " + p);
            }
            // the comparison can fail: another seed gives other weights
            assertNotEquals(one[0][0], other[0][0]);
        }
    }

    static double[][] weights(long seed, int threads, int batch) {
        Setup s = setup(seed, true, threads, batch, false, 0);
        s.trainer().fit(s.train(), null, null);
        List<Parameter> ps = s.model().parameters();
        double[][] w = new double[ps.size()][];
        for (int p = 0; p < w.length; p++) {
            w[p] = ps.get(p).value().clone();
        }
        return w;
    }
}
