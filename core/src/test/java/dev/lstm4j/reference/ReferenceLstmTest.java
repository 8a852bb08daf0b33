package dev.lstm4j.reference;

import dev.lstm4j.ForwardOptions;
import dev.lstm4j.CellWeights;
import dev.lstm4j.DType;
import dev.lstm4j.Fixture;
import dev.lstm4j.Layout;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReferenceLstmTest {
    @Test
    void sigmoidIsFiniteAndExactAtLargeInputs() {
        assertEquals(1.0, ReferenceLstm.sigmoid(1e4));
        assertEquals(0.0, ReferenceLstm.sigmoid(-1e4));
        assertEquals(1.0, ReferenceLstm.sigmoid(Double.MAX_VALUE));
        assertEquals(0.0, ReferenceLstm.sigmoid(-Double.MAX_VALUE));
        assertEquals(0.5, ReferenceLstm.sigmoid(0.0));
        assertTrue(Double.isNaN(ReferenceLstm.sigmoid(Double.NaN)));
        assertEquals(1.0, Math.tanh(1e4));
        assertEquals(-1.0, Math.tanh(-1e4));
        // symmetry σ(-z) = 1 - σ(z), where the naive formula loses it
        for (double z = -30; z <= 30; z += 0.25) {
            assertEquals(1.0 - ReferenceLstm.sigmoid(z), ReferenceLstm.sigmoid(-z), 2.3e-16, "z=" + z);
        }
    }

    /** The step's parts obey the card's equations exactly, in the model's precision. */
    @Test
    void stepValuesFollowTheCard() {
        Lstm lstm = Fixture.named("proj").load().lstm();
        Tensor x = Fixture.named("proj").npy("input");
        List<StepValues> steps = new ArrayList<>();
        lstm.forward(x, ForwardOptions.defaults().withObserver((l, d, b, t, v) -> steps.add(v)));
        assertTrue(steps.size() > 1);
        Precision p = Precision.F32;
        ReferenceLstm.Params w = new ReferenceLstm(lstm.config(), lstm.cells(), p).params(0, 0);
        for (StepValues v : steps) {
            for (int k = 0; k < v.c().length; k++) {
                assertEquals((float) ReferenceLstm.sigmoid(v.f().preActivation()[k]), v.f().activation()[k]);
                assertEquals((float) Math.tanh(v.g().preActivation()[k]), v.g().activation()[k]);
                assertEquals((float) (v.f().activation()[k] * v.cPrev()[k]), v.kept()[k]);
                assertEquals((float) (v.i().activation()[k] * v.g().activation()[k]), v.written()[k]);
                assertEquals((float) (v.kept()[k] + v.written()[k]), v.c()[k]);
                assertEquals((float) (v.o().activation()[k] * (float) Math.tanh(v.c()[k])), v.hidden()[k]);
            }
            assertArrayEquals(ReferenceLstm.project(w, v.hidden()), v.h());
            assertEquals(lstm.config().projSize(), v.h().length);
        }
    }

    @Test
    void saturatedGatesStayFinite() {
        Fixture f = Fixture.named("saturated"); // inputs of order 1e4
        LstmOutput out = f.load().lstm().forward(f.npy("input"), ForwardOptions.defaults().withLayout(f.layout()).withInitial(f.initialState()));
        for (int k = 0; k < out.output().elementCount(); k++) {
            assertTrue(Double.isFinite(out.output().at(k)), "non-finite output at " + k);
        }
    }

    @Test
    void nanInInputPropagatesOnlyThroughItsRow() {
        Fixture f = Fixture.named("nan_input");
        LstmOutput out = f.load().lstm().forward(f.npy("input"), ForwardOptions.defaults().withLayout(f.layout()).withInitial(f.initialState()));
        Tensor expected = f.npy("output");
        int nan = 0;
        for (int k = 0; k < expected.elementCount(); k++) {
            assertEquals(Double.isNaN(expected.at(k)), Double.isNaN(out.output().at(k)), "NaN pattern differs at " + k);
            nan += Double.isNaN(expected.at(k)) ? 1 : 0;
        }
        assertTrue(nan > 0 && nan < expected.elementCount(), "fixture should hold some NaN and some numbers");
    }

    @Test
    void float64ModelComputesInFloat64() {
        Fixture f = Fixture.named("f64");
        Lstm lstm = f.load().lstm();
        assertEquals(Precision.F64, lstm.precision());
        LstmOutput out = lstm.forward(f.npy("input"), ForwardOptions.defaults().withLayout(f.layout()).withInitial(f.initialState()));
        assertEquals(DType.F64, out.output().dtype());
        // a float64 run that rounded to float32 anywhere would be ~1e-8 off, far outside 1e-10
        boolean anyNotFloat = false;
        for (int k = 0; k < out.output().elementCount(); k++) {
            anyNotFloat |= out.output().at(k) != (float) out.output().at(k);
        }
        assertTrue(anyNotFloat, "float64 outputs are all float32 values: something rounded");
    }

    @Test
    void noBiasCellHasNoBias() {
        Lstm lstm = Fixture.named("no_bias").load().lstm();
        for (CellWeights w : lstm.cells()) {
            assertTrue(!w.hasBias());
        }
    }
}
