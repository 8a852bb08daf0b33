package dev.lstm4j.bench;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import dev.lstm4j.train.Adam;
import dev.lstm4j.train.Dataset;
import dev.lstm4j.train.Loss;
import dev.lstm4j.train.Reduction;
import dev.lstm4j.train.TrainableLstm;
import dev.lstm4j.train.Trainer;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * One training step (forward, MSE on the head's last step, backward, Adam) at I=64, H=256, T=100, B=32, float32, timed
 * step by step after a warm-up: wall clock, the calling thread's CPU time, the process's CPU time (which counts helper
 * threads, as Python's {@code time.process_time} does for PyTorch) and the bytes the calling thread allocated. The
 * steady counterpart of {@link TrainStepBench} (JMH's single-shot mode cannot warm up hundreds of steps cheaply), and
 * the lstm4j side of {@code bench/train_compare.sh}. Threads come from {@code -Dlstm4j.threads}.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Dlstm4j.threads=1 -cp ... dev.lstm4j.bench.TrainStepMain [layers] [warmup] [steps] [fast|reference]
 * </pre>
 */
public final class TrainStepMain {
    private TrainStepMain() {
    }

    public static void main(String[] args) {
        int layers = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        boolean fast = args.length <= 3 || args[3].equals("fast");
        int in = 64, hidden = 256, t = 100, b = 32;
        long seed = 1;
        TrainableLstm m = TrainableLstm.create(new LstmConfig(in, hidden, layers, false, 0, true), 1, 0, Precision.F32, seed);
        m.setFastPath(fast);
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[b * t * in], y = new double[b];
        for (int k = 0; k < x.length; k++) {
            x[k] = (float) r.nextGaussian();
        }
        for (int k = 0; k < y.length; k++) {
            y[k] = (float) r.nextGaussian();
        }
        Dataset batch = Dataset.lastStep(x, y, b, t, in, 1);
        Trainer trainer = new Trainer(m, new Adam(m.parameters(), m.precision(), Adam.Options.adam(1e-3)), Loss.mse(Reduction.MEAN),
                Trainer.Options.defaults().withBatchSize(b).withShuffle(false));
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long tid = Thread.currentThread().getId();
        double loss = 0;
        for (int k = 0; k < warmup; k++) {
            loss = trainer.trainEpoch(batch, null);
        }
        double[] wall = new double[steps], cpu = new double[steps], proc = new double[steps];
        long[] bytes = new long[steps];
        for (int k = 0; k < steps; k++) {
            long a0 = threads.getThreadAllocatedBytes(tid);
            long p0 = os.getProcessCpuTime();
            long c0 = threads.getCurrentThreadCpuTime();
            long w0 = System.nanoTime();
            loss = trainer.trainEpoch(batch, null);
            long w1 = System.nanoTime();
            long c1 = threads.getCurrentThreadCpuTime();
            long p1 = os.getProcessCpuTime();
            long a1 = threads.getThreadAllocatedBytes(tid);
            wall[k] = (w1 - w0) / 1e6;
            cpu[k] = (c1 - c0) / 1e6;
            proc[k] = (p1 - p0) / 1e6;
            bytes[k] = a1 - a0;
        }
        Arrays.sort(bytes);
        System.out.printf(Locale.ROOT, "lstm4j %s, %s thread(s), %d layer(s): I=%d H=%d T=%d B=%d training step median %.1f ms (min %.1f),"
                        + " CPU time median %.1f ms (calling thread %.1f), allocated median %d B/step (max %d), over %d steps after %d"
                        + " (seed %d, loss %.6f)%n",
                fast ? "fast" : "reference", System.getProperty("lstm4j.threads", "default"), layers, in, hidden, t, b, median(wall),
                min(wall), median(proc), median(cpu), bytes[steps / 2], bytes[steps - 1], steps, warmup, seed, loss);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }
}
