package dev.lstm4j.train;

import dev.lstm4j.Precision;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.lstm4j.train.GradFixtures.d;
import static dev.lstm4j.train.GradFixtures.data;
import static dev.lstm4j.train.GradFixtures.shape;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Losses and optimizers against PyTorch (grad-fixtures/losses.json, optimizers.json). Each optimizer case feeds the
 * gradients PyTorch computed at each of 100 steps and compares the parameters after every step: float64 within 1e-10,
 * float32 within 1e-5 · max(1, |p|) (the README's float32 tolerance; the updates round after every operation as
 * PyTorch's do, so differences stay at a few ulps).
 */
class LossAndOptimizerParityTest {
    static Loss loss(Map<?, ?> c) {
        Reduction r = c.get("reduction").equals("mean") ? Reduction.MEAN : Reduction.SUM;
        Map<?, ?> params = (Map<?, ?>) c.get("params");
        return switch ((String) c.get("loss")) {
            case "mse" -> Loss.mse(r);
            case "l1" -> Loss.l1(r);
            case "smooth_l1" -> Loss.smoothL1(d(params, "beta"), r);
            case "huber" -> Loss.huber(d(params, "delta"), r);
            case "bce_with_logits" -> Loss.bceWithLogits(r);
            case "cross_entropy" -> Loss.crossEntropy(shape(c.get("input"))[1], GradFixtures.i(params, "ignore_index"), r);
            default -> throw new AssertionError("unknown loss " + c.get("loss"));
        };
    }

    @Test
    void everyLossMatchesPyTorch() {
        List<Map<?, ?>> cases = GradFixtures.cases("losses.json");
        assertEquals(12, cases.size());
        for (Map<?, ?> c : cases) {
            Loss l = loss(c);
            Loss.Result r = l.compute(data(c.get("input")), data(c.get("target")));
            GradFixtures.check(l.name() + " value", new double[] {d(c, "value")}, new double[] {r.value()}, 1e-12);
            GradFixtures.check(l.name() + " gradient", data(c.get("grad")), r.gradient(), 1e-12);
        }
    }

    @Test
    void aWrongLossGradientIsCaught() {
        Map<?, ?> c = GradFixtures.cases("losses.json").get(0);
        double[] g = loss(c).compute(data(c.get("input")), data(c.get("target"))).gradient();
        g[0] *= 1 + 1e-9;
        assertThrows(AssertionError.class, () -> GradFixtures.check("mse", data(c.get("grad")), g, 1e-12));
    }

    static Optimizer optimizer(Map<?, ?> c, List<Parameter> ps, Precision p) {
        Map<?, ?> o = (Map<?, ?>) c.get("options");
        double lr = d(o, "lr");
        switch ((String) c.get("optimizer")) {
            case "SGD": {
                Sgd.Options s = Sgd.Options.lr(lr);
                if (o.get("momentum") != null) s = s.withMomentum(d(o, "momentum"));
                if (o.get("dampening") != null) s = s.withDampening(d(o, "dampening"));
                if (o.get("weight_decay") != null) s = s.withWeightDecay(d(o, "weight_decay"));
                if (o.get("nesterov") != null) s = s.withNesterov((Boolean) o.get("nesterov"));
                return new Sgd(ps, p, s);
            }
            case "Adam":
            case "AdamW": {
                Adam.Options a = c.get("optimizer").equals("Adam") ? Adam.Options.adam(lr) : Adam.Options.adamW(lr);
                if (o.get("betas") != null) {
                    List<?> b = (List<?>) o.get("betas");
                    a = a.withBetas(((Number) b.get(0)).doubleValue(), ((Number) b.get(1)).doubleValue());
                }
                if (o.get("eps") != null) a = a.withEps(d(o, "eps"));
                if (o.get("weight_decay") != null) a = a.withWeightDecay(d(o, "weight_decay"));
                if (o.get("amsgrad") != null) a = a.withAmsgrad((Boolean) o.get("amsgrad"));
                return new Adam(ps, p, a);
            }
            case "RMSprop": {
                RmsProp.Options r = RmsProp.Options.lr(lr);
                if (o.get("alpha") != null) r = r.withAlpha(d(o, "alpha"));
                if (o.get("momentum") != null) r = r.withMomentum(d(o, "momentum"));
                if (o.get("centered") != null) r = r.withCentered((Boolean) o.get("centered"));
                if (o.get("weight_decay") != null) r = r.withWeightDecay(d(o, "weight_decay"));
                return new RmsProp(ps, p, r);
            }
            default:
                throw new AssertionError("unknown optimizer " + c.get("optimizer"));
        }
    }

    /** Runs one optimizer case; returns the worst relative difference. */
    static double run(Map<?, ?> c, double[] perturbGrad) {
        Precision p = GradFixtures.precision(c);
        List<?> initial = (List<?>) c.get("initial");
        List<Parameter> ps = List.of(new Parameter("a", shape(initial.get(0)), data(initial.get(0))),
                new Parameter("b", shape(initial.get(1)), data(initial.get(1))));
        Optimizer opt = optimizer(c, ps, p);
        List<?> grads = (List<?>) c.get("grads"), params = (List<?>) c.get("params");
        double rel = p == Precision.F64 ? 1e-10 : 1e-5;
        double worst = 0;
        for (int s = 0; s < grads.size(); s++) {
            for (int k = 0; k < 2; k++) {
                double[] g = data(((List<?>) grads.get(s)).get(k));
                System.arraycopy(g, 0, ps.get(k).grad(), 0, g.length);
            }
            if (perturbGrad != null && s == 0) {
                ps.get(0).grad()[0] += perturbGrad[0];
            }
            opt.step();
            for (int k = 0; k < 2; k++) {
                worst = Math.max(worst, GradFixtures.check(c.get("name") + " " + c.get("dtype") + " step " + (s + 1) + " param " + k,
                        data(((List<?>) params.get(s)).get(k)), ps.get(k).value(), rel));
            }
        }
        return worst;
    }

    @Test
    void everyOptimizerMatchesTorchOptimForAHundredSteps() {
        List<Map<?, ?>> cases = GradFixtures.cases("optimizers.json");
        assertTrue(cases.size() >= 13);
        for (Map<?, ?> c : cases) {
            assertEquals(100, ((List<?>) c.get("params")).size());
            double worst = run(c, null);
            System.out.printf("%-32s %-8s worst relative |Δ| over 100 steps %.3g%n", c.get("name"), c.get("dtype"), worst);
        }
    }

    @Test
    void aSmallChangeInOneGradientIsCaught() {
        for (Map<?, ?> c : GradFixtures.cases("optimizers.json")) {
            if (GradFixtures.precision(c) == Precision.F64) {
                assertThrows(AssertionError.class, () -> run(c, new double[] {1e-7}), c.get("name") + ": a perturbed gradient went unnoticed");
            }
        }
    }

    @Test
    void clipGradValueClamps() {
        Parameter p = new Parameter("w", new int[] {3}, new double[3]);
        p.grad()[0] = 2;
        p.grad()[1] = -3;
        p.grad()[2] = 0.5;
        GradClip.clipGradValue(List.of(p), 1);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {1, -1, 0.5}, p.grad());
        p.grad()[0] = 3;
        p.grad()[1] = 4;
        p.grad()[2] = 0;
        assertEquals(5, GradClip.clipGradNorm(List.of(p), 1, 2), 1e-15);
        assertEquals(1, Math.hypot(p.grad()[0], p.grad()[1]), 1e-6);
        assertEquals(4, GradClip.clipGradNorm(List.of(p), 10, Double.POSITIVE_INFINITY) * 5, 1e-5);
    }
}
