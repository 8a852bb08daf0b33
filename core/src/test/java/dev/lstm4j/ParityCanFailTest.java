package dev.lstm4j;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The parity check is tight enough to catch the mistakes an LSTM port makes: swapped gate blocks, a
 * dropped bias, a reversed direction. Each broken model must fail against PyTorch's numbers.
 */
class ParityCanFailTest {
    private static final int I = 0, F = 1, G = 2, O = 3;

    private static boolean matches(Fixture f, Lstm lstm) {
        LstmOutput out = lstm.forward(f.npy("input"), ForwardOptions.defaults().withLayout(f.layout()).withInitial(f.initialState()));
        return f.tolerance().check("output", f.npy("output"), out.output()).ok()
                && f.tolerance().check("c_n", f.npy("c_n"), out.cN()).ok();
    }

    /** Swaps two gate row blocks of a (4H, X) or (4H,) tensor. */
    private static Tensor swapBlocks(Tensor t, int a, int b) {
        double[] v = t.toDoubleArray();
        int block = v.length / 4;
        for (int k = 0; k < block; k++) {
            double tmp = v[a * block + k];
            v[a * block + k] = v[b * block + k];
            v[b * block + k] = tmp;
        }
        return Tensor.of(t.dtype(), t.shape(), v);
    }

    private static Lstm rebuild(Lstm lstm, java.util.function.UnaryOperator<CellWeights> change) {
        List<CellWeights> cells = new ArrayList<>();
        for (CellWeights w : lstm.cells()) {
            cells.add(change.apply(w));
        }
        return new Lstm(lstm.config(), cells);
    }

    @Test
    void unchangedModelMatches() {
        Fixture f = Fixture.named("bidir_layers2_proj");
        assertTrue(matches(f, f.load().lstm()));
    }

    @Test
    void everyGateSwapIsCaught() {
        Fixture f = Fixture.named("bidir_layers2_proj");
        Lstm lstm = f.load().lstm();
        int[][] swaps = {{I, F}, {I, G}, {I, O}, {F, G}, {F, O}, {G, O}};
        for (int[] s : swaps) {
            Lstm broken = rebuild(lstm, w -> new CellWeights(swapBlocks(w.weightIh(), s[0], s[1]), swapBlocks(w.weightHh(), s[0], s[1]),
                    swapBlocks(w.biasIh(), s[0], s[1]), swapBlocks(w.biasHh(), s[0], s[1]), w.weightHr()));
            assertFalse(matches(f, broken), "swapping gates " + s[0] + " and " + s[1] + " went unnoticed");
        }
    }

    @Test
    void droppedBiasIsCaught() {
        Fixture f = Fixture.named("basic_f32");
        Lstm lstm = f.load().lstm();
        Lstm broken = rebuild(lstm, w -> new CellWeights(w.weightIh(), w.weightHh(), w.biasIh(),
                Tensor.zeros(w.biasHh().dtype(), w.biasHh().shape()), null));
        assertFalse(matches(f, broken), "zeroing bias_hh went unnoticed");
    }

    @Test
    void swappedDirectionsAreCaught() {
        Fixture f = Fixture.named("bidir");
        Lstm lstm = f.load().lstm();
        Lstm broken = new Lstm(lstm.config(), List.of(lstm.cells().get(1), lstm.cells().get(0)));
        assertFalse(matches(f, broken), "exchanging forward and reverse weights went unnoticed");
    }
}
