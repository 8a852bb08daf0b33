package dev.lstm4j.bench;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.lstm4j.LstmModel;
import dev.lstm4j.internal.kernel.FastLstm;
import dev.lstm4j.internal.kernel.Kernels;

import java.nio.FloatBuffer;
import java.util.Locale;
import java.util.Map;

/**
 * Checks, before anything is timed, that every engine computes the same function on every workload: lstm4j's
 * fast path against PyTorch's recorded output (output.npy, from the same Debian PyTorch the script times), and
 * ONNX Runtime and DJL against lstm4j. Bound: lstm4j's float32 tolerance against PyTorch,
 * {@code |Δ| ≤ 1e-5 · max(1, |expected|)}. Prints one line per pair; exits 1 on a disagreement.
 */
public final class Agreement {
    private Agreement() {
    }

    public static void main(String[] args) throws Exception {
        boolean ok = true;
        for (Workload w : Workload.values()) {
            float[] expected = w.read("output.npy").toFloatArray();
            float[] ours = lstm4j(w);
            double tol = dev.lstm4j.Tolerance.F32.rel();
            ok &= report(w, "lstm4j vs PyTorch (recorded)", expected, ours, tol);
            if (w.config.projSize() == 0) {
                ok &= report(w, "onnxruntime vs lstm4j", ours, onnx(w), tol);
            }
            ok &= report(w, "djl vs lstm4j", ours, djl(w), tol);
        }
        System.out.println(ok ? "agreement: all engines agree" : "agreement: FAILED");
        System.exit(ok ? 0 : 1);
    }

    private static boolean report(Workload w, String what, float[] expected, float[] actual, double tol) {
        if (expected.length != actual.length) {
            System.out.printf(Locale.ROOT, "agreement %s %-30s FAIL: %d values, expected %d%n", w, what, actual.length, expected.length);
            return false;
        }
        double max = 0;
        boolean ok = true;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(expected[i] - actual[i]);
            max = Math.max(max, d);
            ok &= d <= tol * Math.max(1, Math.abs(expected[i]));
        }
        System.out.printf(Locale.ROOT, "agreement %s %-30s max|Δ| = %.2e  (bound %.1e)  %s%n", w, what, max, tol, ok ? "ok" : "FAIL");
        return ok;
    }

    /** All outputs of a forward pass (B, T, D*Hh), or of 16 streaming steps (1, 16, H). */
    static float[] lstm4j(Workload w) {
        LstmModel m = w.model();
        FastLstm fast = new FastLstm(m.lstm().config(), m.lstm().cells(), Kernels.get(), 1);
        float[] x = w.input();
        int hh = w.config.outputHiddenSize(), in = w.config.inputSize();
        if (w.stream) {
            FastLstm.Stream s = fast.stream(1);
            float[] all = new float[16 * hh], xt = new float[in], yt = new float[hh];
            for (int t = 0; t < 16; t++) {
                System.arraycopy(x, t * in, xt, 0, in);
                s.step(xt, yt);
                System.arraycopy(yt, 0, all, t * hh, hh);
            }
            return all;
        }
        int ld = w.config.numLayers() * w.config.directions();
        float[] out = new float[w.batch * w.steps * w.config.outputSize()];
        fast.forward(fast.workspace(w.batch, w.steps), x, null, null, out, new float[ld * w.batch * hh],
                new float[ld * w.batch * w.config.hiddenSize()]);
        return out;
    }

    static float[] onnx(Workload w) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float[] x = w.input();
        int in = w.config.inputSize(), hidden = w.config.hiddenSize();
        try (OrtSession session = OnnxBench.open(w, 1)) {
            if (w.stream) {
                float[] all = new float[16 * hidden];
                OnnxTensor h = OnnxTensor.createTensor(env, FloatBuffer.allocate(hidden), new long[] {1, 1, hidden});
                OnnxTensor c = OnnxTensor.createTensor(env, FloatBuffer.allocate(hidden), new long[] {1, 1, hidden});
                OrtSession.Result prev = null;
                for (int t = 0; t < 16; t++) {
                    OnnxTensor xt = OnnxTensor.createTensor(env, FloatBuffer.wrap(x, t * in, in), new long[] {1, 1, in});
                    OrtSession.Result r = session.run(Map.of("x", xt, "h", h, "c", c));
                    ((OnnxTensor) r.get(0)).getFloatBuffer().get(all, t * hidden, hidden);
                    h = (OnnxTensor) r.get(1);
                    c = (OnnxTensor) r.get(2);
                    if (prev != null) {
                        prev.close();
                    }
                    prev = r;
                }
                return all;
            }
            OnnxTensor xt = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {w.batch, w.steps, in});
            try (OrtSession.Result r = session.run(Map.of("x", xt))) {
                // ONNX LSTM output is (T, D, B, H) before the exporter's transpose; the exported graph returns (B, T, D*H)
                FloatBuffer b = ((OnnxTensor) r.get(0)).getFloatBuffer();
                float[] out = new float[b.remaining()];
                b.get(out);
                return out;
            }
        }
    }

    static float[] djl(Workload w) throws Exception {
        float[] x = w.input();
        int in = w.config.inputSize(), hidden = w.config.hiddenSize();
        try (Model model = DjlBench.load(w, 1); NDManager manager = model.getNDManager().newSubManager()) {
            ParameterStore ps = new ParameterStore(manager, false);
            if (w.stream) {
                float[] all = new float[16 * hidden];
                NDArray h = manager.zeros(new Shape(1, 1, hidden)), c = manager.zeros(new Shape(1, 1, hidden));
                for (int t = 0; t < 16; t++) {
                    float[] step = new float[in];
                    System.arraycopy(x, t * in, step, 0, in);
                    NDList r = model.getBlock().forward(ps, new NDList(manager.create(step, new Shape(1, 1, in)), h, c), false);
                    System.arraycopy(r.get(0).toFloatArray(), 0, all, t * hidden, hidden);
                    h = r.get(1);
                    c = r.get(2);
                }
                return all;
            }
            NDList r = model.getBlock().forward(ps, new NDList(manager.create(x, new Shape(w.batch, w.steps, in))), false);
            return r.get(0).toFloatArray();
        }
    }
}
