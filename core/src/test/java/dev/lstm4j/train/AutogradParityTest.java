package dev.lstm4j.train;

import dev.lstm4j.Precision;
import dev.lstm4j.reference.ReferenceBackward;
import dev.lstm4j.reference.ReferenceBackward.InputGrads;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.lstm4j.train.GradFixtures.data;
import static dev.lstm4j.train.GradFixtures.i;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reference backward against {@code torch.autograd} (grad-fixtures/backward.json): every parameter's gradient and
 * those of x, h0 and c0, float64 within 1e-10 and float32 within {@link #f32Bound}.
 */
class AutogradParityTest {
    /**
     * The float32 bound: {@code |Δ| ≤ 1e-5 · max(1, |expected|) · max(1, √(B·T) / 4)}, the README's float32 tolerance
     * scaled for the reduction length: PyTorch runs the backward in float32 and sums a weight's gradient over B·T steps;
     * we sum in double, so the difference grows with the number of terms (as a random walk, √n). Measured worst: 1.4e-6
     * at B·T = 128 (bound 2.8e-5).
     */
    static double f32Bound(int batch, int steps) {
        return 1e-5 * Math.max(1, Math.sqrt(batch * steps) / 4);
    }

    /** Runs one case's backward with {@code step}; returns the worst relative difference, failing on the first miss. */
    static double compare(Map<?, ?> c, ReferenceBackward.StepBackward step) {
        Precision p = GradFixtures.precision(c);
        TrainableLstm m = GradFixtures.model(c, p);
        int batch = i(c, "batch"), steps = i(c, "steps");
        List<?> len = (List<?>) c.get("lengths");
        int[] lengths = len == null ? null : len.stream().mapToInt(o -> ((Number) o).intValue()).toArray();
        TrainableLstm.Pass pass = m.forward(data(c.get("x")), batch, steps, data(c.get("h0")), data(c.get("c0")), lengths, null);
        InputGrads g = pass.backward(data(c.get("r_y")), data(c.get("r_out")), data(c.get("r_h")), data(c.get("r_c")), step);
        double rel = p == Precision.F64 ? 1e-10 : f32Bound(batch, steps);
        String name = (String) c.get("name");
        Map<?, ?> grads = (Map<?, ?>) c.get("grad");
        double worst = 0;
        for (Parameter param : m.parameters()) {
            worst = Math.max(worst, GradFixtures.check(name + " d" + param.name(), data(grads.get(param.name().replaceFirst("^lstm\\.", "lstm.")
            )), param.grad(), rel));
        }
        worst = Math.max(worst, GradFixtures.check(name + " dx", data(grads.get("x")), g.dInput(), rel));
        if (grads.get("h0") != null) {
            worst = Math.max(worst, GradFixtures.check(name + " dh0", data(grads.get("h0")), g.dH0(), rel));
            worst = Math.max(worst, GradFixtures.check(name + " dc0", data(grads.get("c0")), g.dC0(), rel));
        }
        return worst;
    }

    @Test
    void everyGradientMatchesAutograd() {
        List<Map<?, ?>> cases = GradFixtures.cases("backward.json");
        assertTrue(cases.size() >= 20, "expected the full matrix, got " + cases.size());
        for (Map<?, ?> c : cases) {
            double worst = compare(c, ReferenceBackward::stepBackward);
            System.out.printf("%-32s worst relative |Δ| %.3g%n", c.get("name"), worst);
        }
    }

    /** The comparison catches a wrong σ′ (f instead of f ⊙ (1 − f) on the forget gate) in every float64 and float32 case. */
    @Test
    void aBrokenSigmoidDerivativeFailsTheComparison() {
        int caught = 0;
        List<Map<?, ?>> cases = GradFixtures.cases("backward.json");
        for (Map<?, ?> c : cases) {
            try {
                compare(c, dev.lstm4j.reference.TestSteps.BROKEN_FORGET_SIGMOID);
            } catch (AssertionError expected) {
                caught++;
                continue;
            }
            throw new AssertionError(c.get("name") + ": a broken σ′ went unnoticed");
        }
        assertTrue(caught == cases.size());
    }
}
