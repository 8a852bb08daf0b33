package dev.lstm4j.internal.train;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import dev.lstm4j.reference.ReferenceBackward.InputGrads;
import dev.lstm4j.train.Parameter;
import dev.lstm4j.train.TrainableLstm;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The fast float32 training path ({@link FastBackward}) against the reference path on a float32 model: the forward
 * outputs and every gradient, over seeded random configurations with sizes that hit loop tails (1, 3, 7, 8, 9, 15, 16,
 * 17, 33), layers, bidirectional, projection, no bias, given state, packed lengths, dropout masks and a head. Bound:
 * {@code |fast − reference| ≤ 2e-5 · max(1, |reference|) · max(1, √(B·T·K) / 8)}, K the longest dot product
 * (I_l + Hh); both sum float32 values, the reference in double, this path in float32.
 */
class FastBackwardContractTest {
    static final int[] SIZES = {1, 3, 7, 8, 9, 15, 16, 17, 33};

    record Run(double[] output, double[] hN, double[] cN, double[] head, List<double[]> grads, InputGrads inputs) {
    }

    static Run run(TrainableLstm m, boolean fast, double[] x, int b, int t, double[] h0, double[] c0, int[] len, double[][] masks,
                   double[] rHead, double[] rOut, double[] rH, double[] rC) {
        m.setFastPath(fast);
        m.zeroGrad();
        TrainableLstm.Pass p = m.forward(x, b, t, h0, c0, len, masks);
        InputGrads g = p.backward(rHead, rOut, rH, rC);
        List<double[]> grads = new ArrayList<>();
        for (Parameter q : m.parameters()) {
            grads.add(q.grad().clone());
        }
        return new Run(p.output().clone(), p.hN().clone(), p.cN().clone(), p.head() == null ? null : p.head().clone(), grads, g);
    }

    static double[] rand(SplittableRandom r, int n, double scale) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextDouble(-scale, scale);
        }
        return v;
    }

    static void check(String label, double[] ref, double[] fast, double rel) {
        if (ref == null) {
            return;
        }
        for (int k = 0; k < ref.length; k++) {
            if (Math.abs(fast[k] - ref[k]) > rel * Math.max(1, Math.abs(ref[k]))) {
                fail(label + "[" + k + "]: reference " + ref[k] + ", fast " + fast[k] + " (bound " + rel + ")");
            }
        }
    }

    @Test
    void fastGradientsMatchTheReference() {
        long base = 0xfa57_0014L;
        System.out.println("fast backward contract: base seed " + base);
        for (int n = 0; n < 60; n++) {
            SplittableRandom r = new SplittableRandom(base + n);
            int in = SIZES[r.nextInt(SIZES.length)], hidden = SIZES[r.nextInt(SIZES.length)];
            int layers = 1 + r.nextInt(2);
            boolean bidir = r.nextBoolean(), bias = r.nextInt(4) != 0;
            int proj = hidden > 1 && r.nextInt(3) == 0 ? 1 + r.nextInt(hidden - 1) : 0;
            LstmConfig cfg = new LstmConfig(in, hidden, layers, bidir, proj, bias);
            int headOut = r.nextInt(3);
            TrainableLstm m = TrainableLstm.create(cfg, headOut, layers > 1 && r.nextBoolean() ? 0.25 : 0, Precision.F32, r.nextLong());
            int b = 1 + r.nextInt(5), t = 1 + r.nextInt(9);
            double[] x = rand(r, b * t * in, 1);
            int ld = layers * cfg.directions();
            boolean given = r.nextBoolean();
            double[] h0 = given ? rand(r, ld * b * cfg.outputHiddenSize(), 1) : null, c0 = given ? rand(r, ld * b * hidden, 1) : null;
            int[] len = null;
            if (b > 1 && r.nextBoolean()) {
                len = new int[b];
                for (int k = 0; k < b; k++) {
                    len[k] = 1 + r.nextInt(t);
                }
            }
            SplittableRandom mr = r.split();
            double[][] masks = m.dropoutMasks(mr::nextDouble, b, t);
            double[] rHead = headOut > 0 ? rand(r, b * t * headOut, 1) : null;
            double[] rOut = rand(r, b * t * cfg.outputSize(), 1), rH = rand(r, ld * b * cfg.outputHiddenSize(), 1), rC = rand(r, ld * b * hidden, 1);
            Run ref = run(m, false, x, b, t, h0, c0, len, masks, rHead, rOut, rH, rC);
            Run fast = run(m, true, x, b, t, h0, c0, len, masks, rHead, rOut, rH, rC);
            int k = cfg.layerInputSize(layers - 1) + cfg.outputHiddenSize();
            k = Math.max(k, in + cfg.outputHiddenSize());
            double rel = 2e-5 * Math.max(1, Math.sqrt((double) b * t * k) / 8);
            String label = "seed " + (base + n) + " " + cfg + " head=" + headOut + " B=" + b + " T=" + t + " lengths=" + java.util.Arrays.toString(len) + ": ";
            check(label + "output", ref.output(), fast.output(), rel);
            check(label + "h_n", ref.hN(), fast.hN(), rel);
            check(label + "c_n", ref.cN(), fast.cN(), rel);
            check(label + "head", ref.head(), fast.head(), rel);
            for (int q = 0; q < ref.grads().size(); q++) {
                check(label + "d" + m.parameters().get(q).name(), ref.grads().get(q), fast.grads().get(q), rel);
            }
            check(label + "dx", ref.inputs().dInput(), fast.inputs().dInput(), rel);
            check(label + "dh0", ref.inputs().dH0(), fast.inputs().dH0(), rel);
            check(label + "dc0", ref.inputs().dC0(), fast.inputs().dC0(), rel);
        }
    }

    /**
     * The contract can fail: the same comparison, with one side's forget gate using σ′ = f instead of f ⊙ (1 − f), fails
     * (the broken side is the reference, whose step the tests can replace).
     */
    @Test
    void aBrokenSigmoidDerivativeBreaksTheContract() {
        LstmConfig cfg = new LstmConfig(7, 9, 2, true, 0, true);
        TrainableLstm m = TrainableLstm.create(cfg, 1, 0, Precision.F32, 5);
        SplittableRandom r = new SplittableRandom(5);
        int b = 3, t = 6;
        double[] x = rand(r, b * t * 7, 1), rHead = rand(r, b * t, 1);
        m.setFastPath(true);
        m.zeroGrad();
        m.forward(x, b, t, null, null, null, null).backward(rHead, null, null, null);
        double[] fast = m.parameters().get(1).grad().clone();
        m.setFastPath(false);
        m.zeroGrad();
        m.forward(x, b, t, null, null, null, null).backward(rHead, null, null, null, dev.lstm4j.reference.TestSteps.BROKEN_FORGET_SIGMOID);
        double[] broken = m.parameters().get(1).grad().clone();
        m.zeroGrad();
        m.forward(x, b, t, null, null, null, null).backward(rHead, null, null, null);
        double[] good = m.parameters().get(1).grad().clone();
        check("dweight_hh_l0", good, fast, 2e-5);
        assertTrue(throwsAssertion(() -> check("dweight_hh_l0", broken, fast, 2e-5)), "a broken σ′ went unnoticed");
    }

    static boolean throwsAssertion(Runnable r) {
        try {
            r.run();
            return false;
        } catch (AssertionError expected) {
            return true;
        }
    }
}
