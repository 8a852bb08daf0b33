package dev.lstm4j.bench;

import dev.lstm4j.LstmModel;
import dev.lstm4j.LstmSession;
import dev.lstm4j.Tensor;
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

import java.util.concurrent.TimeUnit;

/**
 * What users get: the public API on W1..W5 as {@code Lstm4j.load} builds it, at the given thread count
 * ({@code -Dlstm4j.threads}; "default" leaves it unset: the processors available). {@link LstmModel#forward(Tensor)}
 * on a batch-first tensor, including its Tensor conversions and result tensors; for W2 one {@link LstmSession} step.
 * Compare with {@link Lstm4jBench}, the engine's array API with a reused workspace.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xss2m"})
public class ApiBench {
    @Param({"W1", "W2", "W3", "W4", "W5"})
    public String workload;

    @Param({"1", "default"})
    public String threads;

    private LstmModel model;
    private Tensor input;
    private LstmSession session;
    private float[] steps, xt, out;
    private int t;

    @Setup
    public void setup() {
        if (!threads.equals("default")) {
            System.setProperty("lstm4j.threads", threads);
        }
        Workload w = Workload.valueOf(workload);
        model = w.model();
        Tensor x = w.read("input.npy");
        if (w.stream) {
            session = new LstmSession(model.lstm());
            steps = x.toFloatArray();
            out = new float[w.config.outputHiddenSize()];
            xt = new float[w.config.inputSize()];
        } else {
            input = x;
        }
        System.err.println("lstm4j API: " + model.lstm().engineName() + " on " + w);
    }

    @TearDown
    public void tearDown() {
        if (session != null) {
            session.close();
        }
    }

    @Benchmark
    public Object run() {
        if (session != null) {
            // the next recorded step, in place (16 steps of I floats)
            int i = t;
            t = (t + 1) & 15;
            System.arraycopy(steps, i * xt.length, xt, 0, xt.length);
            session.step("", xt, out);
            return out;
        }
        return model.forward(input);
    }
}
