package dev.lstm4j;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Input that does not fit the model is refused with an {@link InputException} that says what to give. */
class LstmInputTest {
    private final Fixture fixture = Fixture.named("bidir_layers2_proj"); // I=5, H=7, P=4, L=2, D=2
    private final Lstm lstm = fixture.load().lstm();

    private static Tensor zeros(int... shape) {
        return Tensor.zeros(DType.F32, shape);
    }

    @Test
    void wrongFeatureCount() {
        InputException e = assertThrows(InputException.class, () -> lstm.forward(zeros(2, 3, 4)));
        assertTrue(e.getMessage().contains("expected 5 features") && e.getMessage().contains("got 4"), e.getMessage());
    }

    @Test
    void emptySequence() {
        InputException e = assertThrows(InputException.class, () -> lstm.forward(zeros(2, 0, 5)));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        assertThrows(InputException.class, () -> lstm.forward(zeros(0, 5)));
    }

    @Test
    void wrongRank() {
        InputException e = assertThrows(InputException.class, () -> lstm.forward(zeros(5)));
        assertTrue(e.getMessage().contains("(5,)"), e.getMessage());
    }

    @Test
    void h0OfWrongShape() {
        LstmState bad = new LstmState(zeros(4, 2, 7), zeros(4, 2, 7)); // h must be (4, 2, P=4)
        InputException e = assertThrows(InputException.class, () -> lstm.forward(zeros(2, 3, 5), ForwardOptions.defaults().withInitial(bad)));
        assertTrue(e.getMessage().startsWith("h0: expected shape (num_layers*D=4, batch=2, proj_size=4), got (4, 2, 7)"), e.getMessage());
    }

    @Test
    void c0OfWrongShape() {
        LstmState bad = new LstmState(zeros(4, 2, 4), zeros(2, 2, 7));
        InputException e = assertThrows(InputException.class, () -> lstm.forward(zeros(2, 3, 5), ForwardOptions.defaults().withInitial(bad)));
        assertTrue(e.getMessage().startsWith("c0: expected shape (num_layers*D=4, batch=2, hidden_size=7), got (2, 2, 7)"), e.getMessage());
    }

    @Test
    void unbatchedStateMustBeTwoDimensional() {
        LstmState batched = new LstmState(zeros(4, 1, 4), zeros(4, 1, 7));
        InputException e = assertThrows(InputException.class, () -> lstm.forward(zeros(3, 5), ForwardOptions.defaults().withInitial(batched)));
        assertTrue(e.getMessage().contains("(num_layers*D=4, proj_size=4)"), e.getMessage());
    }

    @Test
    void outputShapesFollowPyTorch() {
        LstmOutput b = lstm.forward(zeros(2, 3, 5));
        assertEquals("[2, 3, 8][4, 2, 4][4, 2, 7]", Arrays.toString(b.output().shape()) + Arrays.toString(b.hN().shape())
                + Arrays.toString(b.cN().shape()));
        LstmOutput s = lstm.forward(zeros(3, 2, 5), ForwardOptions.defaults().withLayout(Layout.SEQ_FIRST));
        assertEquals("[3, 2, 8]", Arrays.toString(s.output().shape()));
        LstmOutput u = lstm.forward(zeros(3, 5));
        assertEquals("[3, 8][4, 4][4, 7]", Arrays.toString(u.output().shape()) + Arrays.toString(u.hN().shape())
                + Arrays.toString(u.cN().shape()));
    }

    @Test
    void unbatchedEqualsBatchOfOne() {
        Tensor x = fixture.npy("input");
        Tensor row = Tensor.of(DType.F32, new int[] {x.size(1), x.size(2)}, Arrays.copyOf(x.toDoubleArray(), x.size(1) * x.size(2)));
        Tensor batched = lstm.forward(row.reshape(1, x.size(1), x.size(2))).output();
        Tensor unbatched = lstm.forward(row).output();
        assertTrue(Arrays.equals(batched.toDoubleArray(), unbatched.toDoubleArray()));
    }
}
