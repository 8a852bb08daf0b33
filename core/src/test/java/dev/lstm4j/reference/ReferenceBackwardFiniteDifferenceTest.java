package dev.lstm4j.reference;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import dev.lstm4j.reference.ReferenceBackward.InputGrads;
import dev.lstm4j.train.Parameter;
import dev.lstm4j.train.TrainableLstm;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The backward pass against central finite differences in float64, with no PyTorch: for 240 seeded random
 * configurations (layers, bidirectional, proj_size, no bias, given h0/c0, packed lengths, dropout masks, a head),
 * every gradient (each weight, x, h0, c0) of the loss {@code L = Σ R_y ⊙ y + Σ R_out ⊙ out + Σ R_h ⊙ h_n + Σ R_c ⊙ c_n}
 * with random R. Central differences with eps = 1e-6; an entry passes when
 * {@code |fd − analytic| ≤ 1e-6 · max(|fd|, |analytic|)} or {@code |fd − analytic| ≤ 1e-9} (the absolute floor).
 */
class ReferenceBackwardFiniteDifferenceTest {
    static final double EPS = 1e-6, REL = 1e-6, FLOOR = 1e-9;
    static final int CONFIGS = 240;

    /** One random configuration, its inputs and its loss weights. */
    static final class Case {
        final long seed;
        final TrainableLstm model;
        final int batch, steps;
        final double[] x, h0, c0;
        final int[] lengths;
        final double[][] masks;
        final double[] rHead, rOut, rH, rC;

        Case(long seed) {
            this.seed = seed;
            SplittableRandom r = new SplittableRandom(seed);
            int in = 1 + r.nextInt(3), hidden = 1 + r.nextInt(4), layers = 1 + r.nextInt(2);
            boolean bidir = r.nextBoolean(), bias = r.nextInt(4) != 0;
            int proj = hidden > 1 && r.nextInt(3) == 0 ? 1 + r.nextInt(hidden - 1) : 0;
            LstmConfig config = new LstmConfig(in, hidden, layers, bidir, proj, bias);
            int headOut = r.nextInt(3);
            double dropout = layers > 1 && r.nextBoolean() ? 0.3 : 0;
            model = TrainableLstm.create(config, headOut, dropout, Precision.F64, r.nextLong());
            // larger weights than the default init, so that the gates leave their linear region
            for (Parameter p : model.parameters()) {
                for (int k = 0; k < p.size(); k++) {
                    p.value()[k] = r.nextDouble(-1, 1);
                }
            }
            batch = 1 + r.nextInt(3);
            steps = 1 + r.nextInt(4);
            x = rand(r, batch * steps * in);
            int ld = layers * config.directions();
            boolean given = r.nextBoolean();
            h0 = given ? rand(r, ld * batch * config.outputHiddenSize()) : null;
            c0 = given ? rand(r, ld * batch * hidden) : null;
            int[] len = null;
            if (batch > 1 && r.nextBoolean()) {
                len = new int[batch];
                for (int b = 0; b < batch; b++) {
                    len[b] = 1 + r.nextInt(steps);
                }
            }
            lengths = len;
            SplittableRandom mr = r.split();
            masks = model.dropoutMasks(mr::nextDouble, batch, steps);
            rHead = headOut > 0 ? rand(r, batch * steps * headOut) : null;
            rOut = rand(r, batch * steps * config.outputSize());
            rH = rand(r, ld * batch * config.outputHiddenSize());
            rC = rand(r, ld * batch * hidden);
        }

        double loss() {
            TrainableLstm.Pass p = model.forward(x, batch, steps, h0, c0, lengths, masks);
            return dot(rHead, p.head()) + dot(rOut, p.output()) + dot(rH, p.hN()) + dot(rC, p.cN());
        }

        InputGrads backward(ReferenceBackward.StepBackward step) {
            model.zeroGrad();
            TrainableLstm.Pass p = model.forward(x, batch, steps, h0, c0, lengths, masks);
            return p.backward(rHead, rOut, rH, rC, step);
        }

        @Override
        public String toString() {
            return "seed=" + seed + " " + model.config() + " head=" + model.headOut() + " dropout=" + model.dropout() + " B=" + batch
                    + " T=" + steps + " h0=" + (h0 != null) + " lengths=" + java.util.Arrays.toString(lengths);
        }
    }

    static double[] rand(SplittableRandom r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextDouble(-1, 1);
        }
        return v;
    }

    static double dot(double[] a, double[] b) {
        if (a == null) {
            return 0;
        }
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** The first entry that fails, as a message, or null when every entry agrees. */
    static String firstFailure(Case c, ReferenceBackward.StepBackward step) {
        InputGrads g = c.backward(step);
        for (Parameter p : c.model.parameters()) {
            String f = compare(c, p.name(), p.value(), p.grad().clone());
            if (f != null) {
                return f;
            }
        }
        String f = compare(c, "x", c.x, g.dInput());
        if (f == null && c.h0 != null) {
            f = compare(c, "h0", c.h0, g.dH0());
        }
        if (f == null && c.c0 != null) {
            f = compare(c, "c0", c.c0, g.dC0());
        }
        return f;
    }

    private static String compare(Case c, String name, double[] values, double[] analytic) {
        for (int k = 0; k < values.length; k++) {
            double keep = values[k];
            values[k] = keep + EPS;
            double plus = c.loss();
            values[k] = keep - EPS;
            double minus = c.loss();
            values[k] = keep;
            double fd = (plus - minus) / (2 * EPS);
            double diff = Math.abs(fd - analytic[k]);
            if (diff > FLOOR && diff > REL * Math.max(Math.abs(fd), Math.abs(analytic[k]))) {
                return c + ": d" + name + "[" + k + "] analytic " + analytic[k] + ", finite difference " + fd;
            }
        }
        return null;
    }

    @Test
    void everyGradientMatchesCentralDifferences() {
        long base = 0x5eed_0014L;
        System.out.println("finite-difference check: base seed " + base + ", " + CONFIGS + " configurations");
        int checked = 0;
        for (int n = 0; n < CONFIGS; n++) {
            Case c = new Case(base + n);
            String f = firstFailure(c, ReferenceBackward::stepBackward);
            if (f != null) {
                fail(f);
            }
            checked++;
        }
        assertTrue(checked == CONFIGS);
    }

    /**
     * The check is tight enough to catch a wrong σ′: f ⊙ (1 − f) replaced by f on the forget gate. Every configuration
     * where the forget gate matters (c_{t-1} ≠ 0 somewhere: more than one step, or a given c0) must fail.
     */
    @Test
    void aBrokenSigmoidDerivativeIsCaught() {
        int relevant = 0, caught = 0;
        for (int n = 0; n < 30; n++) {
            Case c = new Case(0x0bad_5167L + n);
            boolean forgetMatters = c.steps > 1 && (c.lengths == null || java.util.Arrays.stream(c.lengths).max().getAsInt() > 1)
                    || c.c0 != null;
            if (!forgetMatters) {
                continue;
            }
            relevant++;
            if (firstFailure(c, BrokenSteps.FORGET_SIGMOID_WITHOUT_ONE_MINUS) != null) {
                caught++;
            } else {
                fail("a broken σ′ went unnoticed: " + c);
            }
        }
        System.out.println("broken σ′ caught in " + caught + "/" + relevant + " configurations where the forget gate matters");
        assertTrue(relevant >= 15, "too few configurations exercise the forget gate: " + relevant);
    }
}
