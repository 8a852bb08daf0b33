package dev.lstm4j.train;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static dev.lstm4j.train.GradFixtures.data;
import static dev.lstm4j.train.GradFixtures.i;
import static dev.lstm4j.train.GradFixtures.shape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The training loop against PyTorch (grad-fixtures/training.json): LSTM + head + MSE + clip_grad_norm_ with four
 * optimizers for 20 steps, and truncated BPTT (state carried and detached every k steps) in float64 and float32; then
 * determinism and checkpoint resume, bit for bit.
 */
class TrainerTest {
    static Optimizer optimizer(Map<?, ?> c, TrainableLstm m) {
        return LossAndOptimizerParityTest.optimizer(c, m.parameters(), m.precision());
    }

    @Test
    void trainingMatchesPyTorchStepForStep() {
        int cases = 0;
        for (Map<?, ?> c : GradFixtures.cases("training.json")) {
            String name = (String) c.get("name");
            if (!name.startsWith("train_")) {
                continue;
            }
            cases++;
            TrainableLstm m = GradFixtures.model(c, Precision.F64);
            int[] xs = shape(c.get("x"));
            Dataset d = Dataset.lastStep(data(c.get("x")), data(c.get("y")), xs[0], xs[1], xs[2], 1);
            List<?> losses = (List<?>) c.get("losses");
            Trainer.Options o = Trainer.Options.defaults().withEpochs(losses.size()).withBatchSize(xs[0]).withShuffle(false)
                    .withClipNorm(((Number) c.get("clip_norm")).doubleValue());
            Trainer t = new Trainer(m, optimizer(c, m), Loss.mse(Reduction.MEAN), o);
            Map<Integer, Map<?, ?>> expectedAt = new java.util.HashMap<>();
            for (Object rec : (List<?>) c.get("params")) {
                expectedAt.put(i((Map<?, ?>) rec, "step"), (Map<?, ?>) ((Map<?, ?>) rec).get("state_dict"));
            }
            double worst = 0;
            for (int step = 1; step <= losses.size(); step++) {
                double l = t.trainEpoch(d, null);
                worst = Math.max(worst, GradFixtures.check(name + " loss at step " + step, new double[] {((Number) losses.get(step - 1)).doubleValue()},
                        new double[] {l}, 1e-10));
                Map<?, ?> sd = expectedAt.get(step);
                if (sd != null) {
                    for (Parameter p : m.parameters()) {
                        worst = Math.max(worst, GradFixtures.check(name + " " + p.name() + " after step " + step, data(sd.get(p.name())), p.value(), 1e-10));
                    }
                }
            }
            System.out.printf("%-40s worst relative |Δ| %.3g%n", name, worst);
        }
        assertEquals(4, cases);
    }

    @Test
    void truncatedBpttMatchesPyTorchsDetachPerChunkLoop() {
        int cases = 0;
        for (Map<?, ?> c : GradFixtures.cases("training.json")) {
            String name = (String) c.get("name");
            if (!name.startsWith("tbptt_")) {
                continue;
            }
            cases++;
            Precision p = name.endsWith("f64") ? Precision.F64 : Precision.F32;
            TrainableLstm m = GradFixtures.model(c, p);
            int[] xs = shape(c.get("x"));
            Dataset d = Dataset.everyStep(data(c.get("x")), data(c.get("y")), xs[0], xs[1], xs[2], 1);
            int k = i(c, "k");
            Trainer.Options o = Trainer.Options.defaults().withEpochs(3).withBatchSize(xs[0]).withShuffle(false).withTbptt(k);
            Trainer t = new Trainer(m, optimizer(c, m), Loss.mse(Reduction.MEAN), o);
            List<?> params = (List<?>) c.get("params");
            int chunks = xs[1] / k;
            double rel = p == Precision.F64 ? 1e-10 : 1e-5;
            double worst = 0;
            for (int epoch = 0; epoch < 3; epoch++) {
                t.trainEpoch(d, null);
                Map<?, ?> sd = (Map<?, ?>) params.get((epoch + 1) * chunks - 1);
                for (Parameter q : m.parameters()) {
                    worst = Math.max(worst, GradFixtures.check(name + " " + q.name() + " after epoch " + (epoch + 1), data(sd.get(q.name())), q.value(), rel));
                }
            }
            System.out.printf("%-40s worst relative |Δ| %.3g%n", name, worst);
            // without detaching per chunk (full BPTT) the result differs: the check can fail
            TrainableLstm full = GradFixtures.model(c, p);
            Trainer tf = new Trainer(full, optimizer(c, full), Loss.mse(Reduction.MEAN), o.withTbptt(0));
            tf.trainEpoch(d, null);
            Map<?, ?> sd1 = (Map<?, ?>) params.get(chunks - 1);
            assertThrows(AssertionError.class, () -> GradFixtures.check("full BPTT", data(sd1.get("lstm.weight_hh_l0")),
                    full.parameters().get(1).value(), rel));
        }
        assertEquals(2, cases);
    }

    static Dataset sine(long seed, int n, int t) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n * t], y = new double[n];
        for (int s = 0; s < n; s++) {
            double phase = r.nextDouble(0, 2 * Math.PI);
            for (int k = 0; k < t; k++) {
                x[s * t + k] = Math.sin(phase + 0.3 * k) + 0.05 * r.nextGaussian();
            }
            y[s] = Math.sin(phase + 0.3 * t);
        }
        return Dataset.lastStep(x, y, n, t, 1, 1);
    }

    static Trainer trainer(long seed, int epochs) {
        TrainableLstm m = TrainableLstm.create(new LstmConfig(1, 6, 2, false, 0, true), 1, 0.2, Precision.F32, seed);
        Optimizer opt = new Adam(m.parameters(), m.precision(), Adam.Options.adam(0.01));
        return new Trainer(m, opt, Loss.mse(Reduction.MEAN), Trainer.Options.defaults().withEpochs(epochs).withBatchSize(8)
                .withSeed(seed).withClipNorm(1).withTbptt(5).withPatience(3));
    }

    @Test
    void theSameSeedGivesTheSameModelBitForBit() {
        long seed = 0x7a11L;
        System.out.println("seed " + seed);
        Dataset train = sine(seed, 40, 12), val = sine(seed + 1, 16, 12);
        Trainer a = trainer(seed, 4), b = trainer(seed, 4);
        a.fit(train, val, null);
        b.fit(train, val, null);
        for (int k = 0; k < a.model().parameters().size(); k++) {
            assertArrayEquals(a.model().parameters().get(k).value(), b.model().parameters().get(k).value());
        }
        Trainer c = trainer(seed + 1, 4);
        c.fit(train, val, null);
        assertFalse(java.util.Arrays.equals(a.model().parameters().get(0).value(), c.model().parameters().get(0).value()));
    }

    @Test
    void aResumedRunEndsBitIdenticalToAnUninterruptedOne(@TempDir Path dir) {
        long seed = 0x7e5eL;
        System.out.println("seed " + seed);
        Dataset train = sine(seed, 40, 12), val = sine(seed + 1, 16, 12);
        Trainer whole = trainer(seed, 6);
        whole.fit(train, val, null);

        Trainer first = trainer(seed, 3);
        first.fit(train, val, null);
        Path ckpt = dir.resolve("ckpt.safetensors");
        first.save(ckpt);
        Trainer resumed = trainer(seed + 99, 6); // other initial weights and generator: the checkpoint must replace both
        resumed.restore(ckpt);
        assertEquals(3, resumed.epoch());
        resumed.fit(train, val, null);
        assertEquals(whole.history(), resumed.history());
        for (int k = 0; k < whole.model().parameters().size(); k++) {
            assertArrayEquals(whole.model().parameters().get(k).value(), resumed.model().parameters().get(k).value(),
                    whole.model().parameters().get(k).name());
        }
    }

    @Test
    void aCheckpointOfAnotherOptimizerIsRefused(@TempDir Path dir) {
        Trainer t = trainer(1, 1);
        t.fit(sine(1, 8, 6), null, null);
        Path ckpt = dir.resolve("c.safetensors");
        t.save(ckpt);
        TrainableLstm m = TrainableLstm.create(new LstmConfig(1, 6, 2, false, 0, true), 1, 0.2, Precision.F32, 1);
        Trainer other = new Trainer(m, new Sgd(m.parameters(), m.precision(), Sgd.Options.lr(0.1)), Loss.mse(Reduction.MEAN),
                Trainer.Options.defaults());
        Exception e = assertThrows(dev.lstm4j.InputException.class, () -> other.restore(ckpt));
        assertTrue(e.getMessage().contains("SGD(lr=0.1"), e.getMessage());
    }

    @Test
    void trainingLowersTheValidationLossAndEarlyStoppingKeepsTheBest() {
        long seed = 0xbe57L;
        System.out.println("seed " + seed);
        Dataset train = sine(seed, 64, 12), val = sine(seed + 1, 32, 12);
        Trainer t = trainer(seed, 15);
        double before = t.evaluate(val);
        t.fit(train, val, null);
        assertTrue(t.useBestWeights());
        double after = t.evaluate(val);
        assertTrue(after < before / 2, "validation loss " + before + " -> " + after);
        assertEquals(t.bestValidationLoss(), after, 1e-12);
    }
}
