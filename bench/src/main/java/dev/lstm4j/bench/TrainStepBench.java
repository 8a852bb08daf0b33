package dev.lstm4j.bench;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import dev.lstm4j.train.Adam;
import dev.lstm4j.train.Dataset;
import dev.lstm4j.train.Loss;
import dev.lstm4j.train.Reduction;
import dev.lstm4j.train.TrainableLstm;
import dev.lstm4j.train.Trainer;
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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One training step (forward, MSE on the head's last step, backward, Adam step) at I=64, H=256, T=100, B=32, float32,
 * on the batched float32 path (1 and 2 threads, 1 and 2 layers) and on the reference path; compare with
 * tools/pytorch/bench_train_step.py, which times the same step in PyTorch ({@code bench/train_compare.sh} runs both,
 * with {@link TrainStepMain} on the lstm4j side). Average time over 2-second iterations, after 5 of warm-up: the
 * kernels need a few dozen steps to be compiled.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "--add-modules", "jdk.incubator.vector"})
public class TrainStepBench {
    @Param({"fast", "reference"})
    public String path;

    @Param({"1", "2"})
    public int threads;

    @Param({"1", "2"})
    public int layers;

    private Trainer trainer;
    private Dataset batch;

    @Setup
    public void setup() {
        int in = 64, hidden = 256, steps = 100, b = 32;
        TrainableLstm m = TrainableLstm.create(new LstmConfig(in, hidden, layers, false, 0, true), 1, 0, Precision.F32, 1);
        m.setFastPath(path.equals("fast"));
        m.setThreads(threads);
        SplittableRandom r = new SplittableRandom(1);
        double[] x = new double[b * steps * in], y = new double[b];
        for (int k = 0; k < x.length; k++) {
            x[k] = r.nextGaussian();
        }
        for (int k = 0; k < y.length; k++) {
            y[k] = r.nextGaussian();
        }
        batch = Dataset.lastStep(x, y, b, steps, in, 1);
        trainer = new Trainer(m, new Adam(m.parameters(), m.precision(), Adam.Options.adam(1e-3)), Loss.mse(Reduction.MEAN),
                Trainer.Options.defaults().withBatchSize(b).withShuffle(false));
    }

    @Benchmark
    public double step() {
        return trainer.trainEpoch(batch, null);
    }
}
