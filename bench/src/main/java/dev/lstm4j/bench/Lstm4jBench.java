package dev.lstm4j.bench;

import dev.lstm4j.LstmModel;
import dev.lstm4j.internal.kernel.FastLstm;
import dev.lstm4j.internal.kernel.Kernels;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * lstm4j's fast path on W1..W5: a forward pass over arrays with a reused workspace, or (W2) one streaming
 * step carrying (h, c). Neither allocates per step; check with {@code -prof gc}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xss2m"})
public class Lstm4jBench {
    @Param({"W1", "W2", "W3", "W4", "W5"})
    public String workload;

    @Param({"1", "2"})
    public int threads;

    private FastLstm.Stream stream;
    private FastLstm fast;
    private FastLstm.Workspace ws;
    private float[] x, out, hN, cN, steps, xt, yt;
    private int t;

    @Setup
    public void setup() {
        Workload w = Workload.valueOf(workload);
        LstmModel m = w.model();
        fast = new FastLstm(m.lstm().config(), m.lstm().cells(), Kernels.get(), threads);
        int ld = w.config.numLayers() * w.config.directions(), hh = w.config.outputHiddenSize();
        if (w.stream) {
            stream = fast.stream(1);
            steps = w.input();
            xt = new float[w.config.inputSize()];
            yt = new float[hh];
        } else {
            x = w.input();
            ws = fast.workspace(w.batch, w.steps);
            out = new float[w.batch * w.steps * w.config.outputSize()];
            hN = new float[ld * w.batch * hh];
            cN = new float[ld * w.batch * w.config.hiddenSize()];
        }
        System.err.println("lstm4j: " + fast + " on " + w + " " + w.config);
    }

    @Benchmark
    public float[] run() {
        if (stream != null) {
            // next recorded input step; (h, c) carry over from the previous call
            int i = w16();
            System.arraycopy(steps, i * xt.length, xt, 0, xt.length);
            stream.step(xt, yt);
            return yt;
        }
        fast.forward(ws, x, null, null, out, hN, cN);
        return out;
    }

    private int w16() {
        int i = t;
        t = (t + 1) & 15;
        return i;
    }
}
