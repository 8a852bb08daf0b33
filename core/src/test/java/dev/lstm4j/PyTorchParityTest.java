package dev.lstm4j;

import dev.lstm4j.internal.io.ModelLoader;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Every PyTorch fixture: output, h_n, c_n and head within the README's tolerance of PyTorch's. */
class PyTorchParityTest {
    static List<Fixture> cases() {
        return Fixture.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesPyTorch(Fixture f) {
        LstmModel m = f.load();
        LstmModel.Result r = m.forward(f.npy("input"), ForwardOptions.defaults().withLayout(f.layout()).withInitial(f.initialState()));
        Tolerance tol = f.tolerance();
        Check.close(f + " output", f.npy("output"), r.lstm().output(), tol);
        Check.close(f + " h_n", f.npy("h_n"), r.lstm().hN(), tol);
        Check.close(f + " c_n", f.npy("c_n"), r.lstm().cN(), tol);
        if (f.has("head")) {
            assertNotNull(r.head(), f + ": fixture has a head but none was loaded");
            Check.close(f + " head", f.npy("head"), r.head(), tol);
        } else {
            assertNull(r.head());
        }
    }

    /** The architecture inferred without hints equals the one PyTorch was built with. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void infersArchitecture(Fixture f) {
        LstmModel m = ModelLoader.load(f.model(), ModelLoader.Options.DEFAULT);
        LstmConfig c = m.lstm().config();
        assertEquals(f.info().get("prefix"), m.prefix());
        assertEquals(f.info().get("head_prefix"), m.headPrefix());
        assertEquals(((Long) f.info().get("input_size")).intValue(), c.inputSize());
        assertEquals(((Long) f.info().get("hidden_size")).intValue(), c.hiddenSize());
        assertEquals(((Long) f.info().get("num_layers")).intValue(), c.numLayers());
        assertEquals(f.info().get("bidirectional"), c.bidirectional());
        assertEquals(((Long) f.info().get("proj_size")).intValue(), c.projSize());
        assertEquals(f.info().get("bias"), c.bias());
        assertEquals("lstmcell".equals(f.info().get("kind")), m.cell());
        assertEquals("float64".equals(f.info().get("dtype")) ? Precision.F64 : Precision.F32, m.lstm().precision());
    }
}
