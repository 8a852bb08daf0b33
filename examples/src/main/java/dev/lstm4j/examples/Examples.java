package dev.lstm4j.examples;

import dev.lstm4j.ForwardOptions;
import dev.lstm4j.LoadOptions;
import dev.lstm4j.Lstm4j;
import dev.lstm4j.LstmModel;
import dev.lstm4j.LstmSession;
import dev.lstm4j.Tensor;
import dev.lstm4j.reference.StepValues;
import dev.lstm4j.trace.Trace;
import dev.lstm4j.trace.TraceStep;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * What a Java team does with lstm4j, through the public API only: load a PyTorch-saved model, run a batch, stream
 * events per key, and look inside a step. Run with the weights file as the argument, e.g. the demo model
 * {@code cli/src/main/resources/demo/model.safetensors}. Exits 1 if the streamed and the batched results disagree.
 */
public final class Examples {
    public static void main(String[] args) throws Exception {
        Path weights = Path.of(args.length > 0 ? args[0] : "../cli/src/main/resources/demo/model.safetensors");
        System.out.println("lstm4j " + Lstm4j.version());

        // load: the architecture is inferred from the state dict's keys and shapes
        LstmModel model = Lstm4j.load(weights);
        int features = model.lstm().config().inputSize();
        System.out.println("loaded " + model.lstm().config() + (model.head() == null ? "" : " with head " + model.headPrefix())
                + " on the " + (model.lstm().usesFastPath() ? "fast" : "reference") + " path");

        // forward: a batch of 2 sequences of 4 steps, (B, T, I)
        float[] values = new float[2 * 4 * features];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) Math.sin(0.3 * i);
        }
        Tensor x = Tensor.of(new int[] {2, 4, features}, values);
        LstmModel.Result r = model.forward(x);
        System.out.println("output " + Tensor.shapeString(r.lstm().output().shape()) + ", h_n " + Tensor.shapeString(r.lstm().hN().shape()));

        // the same batch with sequences of different lengths, as PyTorch's packed sequences
        LstmModel.Result packed = model.forward(x, ForwardOptions.defaults().withLengths(4, 2));
        System.out.println("row 1 ends after 2 steps: h_n " + Arrays.toString(packed.lstm().hN().toFloatArray()));

        // stream: events arrive one at a time per key; each key carries its own (h, c)
        float[] out = new float[model.lstm().config().outputHiddenSize()];
        try (LstmSession session = new LstmSession(model.lstm())) {
            for (int t = 0; t < 4; t++) {
                for (int row = 0; row < 2; row++) {
                    float[] step = Arrays.copyOfRange(values, (row * 4 + t) * features, (row * 4 + t + 1) * features);
                    session.step("sensor-" + row, step, out);
                }
            }
            float[] streamed = session.state("sensor-1").h().toFloatArray();
            float[] batched = Arrays.copyOfRange(r.lstm().hN().toFloatArray(), streamed.length, 2 * streamed.length);
            System.out.println("streamed h of sensor-1 " + Arrays.toString(streamed) + ", batched " + Arrays.toString(batched));
            for (int i = 0; i < streamed.length; i++) {
                if (Math.abs(streamed[i] - batched[i]) > 1e-5 * Math.max(1, Math.abs(batched[i]))) {
                    System.err.println("streamed and batched results differ at " + i);
                    System.exit(1);
                }
            }
        }

        // a whole model, declared once: the same weights read as a forecaster, the Linear on the last step only
        LstmModel forecaster = Lstm4j.load(weights, LoadOptions.defaults().withSpec("lstm > last > fc"));
        Tensor y = forecaster.forward(x).y();   // (B, out) = fc(out[:, -1]), what PyTorch's model(x) returns
        int o = y.size(1);
        for (int row = 0; row < 2; row++) {
            for (int k = 0; k < o; k++) {
                double perStep = r.head().get(row, 3, k);
                if (Math.abs(y.get(row, k) - perStep) > 1e-6 * Math.max(1, Math.abs(perStep))) {
                    System.err.println("the forecaster's y differs from the per-step head at the last step");
                    System.exit(1);
                }
            }
        }
        System.out.println("forecaster '" + forecaster.spec() + "': y " + Tensor.shapeString(y.shape()) + " = " + Arrays.toString(y.toFloatArray()));

        // trace: every gate of every step, on the readable reference path
        Trace trace = Trace.record(model, x);
        TraceStep first = trace.at(0, 0, 0, 0);
        StepValues v = first.values();
        System.out.println("step 0: forget gate f = " + Arrays.toString(v.f().activation()) + ", input gate i = "
                + Arrays.toString(v.i().activation()) + ", c = " + Arrays.toString(v.c()));
    }
}
