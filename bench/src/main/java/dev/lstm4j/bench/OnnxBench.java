package dev.lstm4j.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.FloatBuffer;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * ONNX Runtime Java on the same workloads and weights (model.onnx from torch.onnx.export). The input tensor is
 * made once; each call runs the session and copies the output into a Java array, as a caller would. W5 is
 * absent: ONNX's LSTM operator has no projection. -Xss2m: ORT 1.29 crashed creating its environment with a
 * long class path on the default stack.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xss2m"})
public class OnnxBench {
    @Param({"W1", "W2", "W3", "W4"})
    public String workload;

    @Param({"1", "2"})
    public int threads;

    private OrtEnvironment env;
    private OrtSession session;
    private OnnxTensor x;
    private OnnxTensor[] xs;
    private OrtSession.Result state;
    private OnnxTensor h, c;
    private float[] out;
    private int t;

    @Setup
    public void setup() throws OrtException {
        Workload w = Workload.valueOf(workload);
        session = open(w, threads);
        env = OrtEnvironment.getEnvironment();
        float[] input = w.input();
        int in = w.config.inputSize(), hidden = w.config.hiddenSize();
        if (w.stream) {
            xs = new OnnxTensor[16];
            for (int i = 0; i < 16; i++) {
                xs[i] = OnnxTensor.createTensor(env, FloatBuffer.wrap(input, i * in, in), new long[] {1, 1, in});
            }
            h = OnnxTensor.createTensor(env, FloatBuffer.allocate(hidden), new long[] {1, 1, hidden});
            c = OnnxTensor.createTensor(env, FloatBuffer.allocate(hidden), new long[] {1, 1, hidden});
            out = new float[hidden];
        } else {
            x = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), new long[] {w.batch, w.steps, in});
            out = new float[w.batch * w.steps * w.config.outputSize()];
        }
    }

    static OrtSession open(Workload w, int threads) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(threads);
        so.setInterOpNumThreads(1);
        so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        return env.createSession(w.dir().resolve("model.onnx").toString(), so);
    }

    @Benchmark
    public float[] run() throws OrtException {
        if (xs != null) {
            OrtSession.Result r = session.run(Map.of("x", xs[t], "h", h, "c", c));
            t = (t + 1) & 15;
            ((OnnxTensor) r.get(0)).getFloatBuffer().get(out);
            // the outputs h_out, c_out are the next step's inputs; the previous result can go now
            h = (OnnxTensor) r.get(1);
            c = (OnnxTensor) r.get(2);
            if (state != null) {
                state.close();
            }
            state = r;
            return out;
        }
        try (OrtSession.Result r = session.run(Map.of("x", x))) {
            ((OnnxTensor) r.get(0)).getFloatBuffer().get(out);
        }
        return out;
    }

    @TearDown
    public void close() throws OrtException {
        if (state != null) {
            state.close();
        }
        session.close();
    }
}
