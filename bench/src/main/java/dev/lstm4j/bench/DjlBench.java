package dev.lstm4j.bench;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
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
 * PyTorch through DJL (the pytorch-native-cpu jar, offline) on the same workloads and weights: the TorchScript
 * model.pt traced from the same nn.LSTM. Each call runs the block and copies the output into a Java array.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xss2m", "-Dai.djl.offline=true"})
public class DjlBench {
    @Param({"W1", "W2", "W3", "W4", "W5"})
    public String workload;

    @Param({"1", "2"})
    public int threads;

    private Model model;
    private Block block;
    private NDManager manager;
    private ParameterStore params;
    private NDArray x;
    private NDArray[] xs;
    private NDArray h, c;
    private int t;

    @Setup
    public void setup() throws Exception {
        Workload w = Workload.valueOf(workload);
        model = load(w, threads);
        block = model.getBlock();
        manager = model.getNDManager().newSubManager();
        params = new ParameterStore(manager, false);
        float[] input = w.input();
        int in = w.config.inputSize(), hidden = w.config.hiddenSize();
        if (w.stream) {
            xs = new NDArray[16];
            for (int i = 0; i < 16; i++) {
                float[] step = new float[in];
                System.arraycopy(input, i * in, step, 0, in);
                xs[i] = manager.create(step, new Shape(1, 1, in));
            }
            h = manager.zeros(new Shape(1, 1, hidden));
            c = manager.zeros(new Shape(1, 1, hidden));
        } else {
            x = manager.create(input, new Shape(w.batch, w.steps, in));
        }
    }

    /** The engine reads its thread counts once, at start-up: set them before the first use. */
    static Model load(Workload w, int threads) throws Exception {
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        Engine.getEngine("PyTorch");
        Model m = Model.newInstance(w.name(), "PyTorch");
        m.load(w.dir(), "model");
        return m;
    }

    @Benchmark
    public float[] run() {
        if (xs != null) {
            NDList r = block.forward(params, new NDList(xs[t], h, c), false);
            t = (t + 1) & 15;
            float[] y = r.get(0).toFloatArray();
            NDArray oldH = h, oldC = c;
            h = r.get(1);
            c = r.get(2);
            r.get(0).close();
            oldH.close();
            oldC.close();
            return y;
        }
        NDList r = block.forward(params, new NDList(x), false);
        float[] y = r.get(0).toFloatArray();
        r.close();
        return y;
    }

    @TearDown
    public void close() {
        manager.close();
        model.close();
    }
}
