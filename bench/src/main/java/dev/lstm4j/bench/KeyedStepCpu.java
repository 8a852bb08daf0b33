package dev.lstm4j.bench;

import dev.lstm4j.CellWeights;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmSession;
import dev.lstm4j.LstmStepper;
import dev.lstm4j.Tensor;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;
import java.util.SplittableRandom;

/**
 * CPU time of the calling thread per key: one {@link LstmStepper} call over 10,000 keys against 10,000
 * {@link LstmSession} steps, I = 32, H = 128, six rounds of 3 CPU seconds each. CPU time depends less than wall time on a
 * shared machine's neighbours. Run with {@code -Dlstm4j.threads=1} so all the work is on the calling thread:
 * {@code java --add-modules jdk.incubator.vector -Dlstm4j.threads=1 -cp "bench/target/classes:$(cat bench/target/classpath.txt)" dev.lstm4j.bench.KeyedStepCpu}
 */
public final class KeyedStepCpu {
    private static final int I = 32, H = 128, N = 10_000;
    private static final long ROUND_NANOS = 3_000_000_000L;

    public static void main(String[] args) {
        SplittableRandom rnd = new SplittableRandom(1);
        List<CellWeights> cells = List.of(new CellWeights(random(rnd, 4 * H, I), random(rnd, 4 * H, H), random(rnd, 4 * H), random(rnd, 4 * H), null));
        Lstm lstm = new Lstm(new LstmConfig(I, H, 1, false, 0, true), cells);
        LstmStepper stepper = new LstmStepper(lstm);
        float[] x = new float[N * I], h = new float[N * H], c = new float[N * H], out = new float[N * H];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextDouble();
        }
        String[] names = new String[N];
        for (int k = 0; k < N; k++) {
            names[k] = "key-" + k;
        }
        float[] xk = new float[I], outK = new float[H];
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try (LstmSession session = new LstmSession(lstm)) {
            for (int round = 0; round < 6; round++) {
                long cpu0 = mx.getCurrentThreadCpuTime(), wall0 = System.nanoTime();
                int calls = 0;
                while (mx.getCurrentThreadCpuTime() - cpu0 < ROUND_NANOS) {
                    stepper.step(N, x, h, c, out);
                    calls++;
                }
                double stepperCpu = (mx.getCurrentThreadCpuTime() - cpu0) / 1e3 / calls / N, stepperWall = (System.nanoTime() - wall0) / 1e3 / calls / N;
                cpu0 = mx.getCurrentThreadCpuTime();
                wall0 = System.nanoTime();
                int rounds = 0;
                while (mx.getCurrentThreadCpuTime() - cpu0 < ROUND_NANOS) {
                    for (int k = 0; k < N; k++) {
                        System.arraycopy(x, k * I, xk, 0, I);
                        session.step(names[k], xk, outK);
                    }
                    rounds++;
                }
                double sessionCpu = (mx.getCurrentThreadCpuTime() - cpu0) / 1e3 / rounds / N, sessionWall = (System.nanoTime() - wall0) / 1e3 / rounds / N;
                System.out.printf("round %d: stepper %.3f us CPU per key (%.3f wall), session %.3f us CPU per key (%.3f wall): %.2fx by CPU%n",
                        round, stepperCpu, stepperWall, sessionCpu, sessionWall, sessionCpu / stepperCpu);
            }
        }
    }

    private static Tensor random(SplittableRandom rnd, int... shape) {
        float[] v = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextDouble() * 2 - 1) * 0.2f;
        }
        return Tensor.of(shape, v);
    }
}
