package dev.lstm4j.bench;

import dev.lstm4j.CellWeights;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmSession;
import dev.lstm4j.LstmStepper;
import dev.lstm4j.StreamState;
import dev.lstm4j.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * 10,000 keys × 1 event at I = 32, H = 128 (one layer): one operation steps every key once. {@code session}: one
 * {@link LstmSession#step(String, float[], float[])} per key (the session swaps each key's (h, c) in and out);
 * {@code stepper}: one {@link LstmStepper} call over flat arrays; {@code states}: one call over {@link StreamState}
 * values, as the engine modules run it (it allocates each key's next state).
 *
 * <p>Run: {@code mvn -B -Pbench -pl bench -am package -DskipTests && java --add-modules jdk.incubator.vector -cp
 * "bench/target/classes:$(cat bench/target/classpath.txt)" org.openjdk.jmh.Main KeyedStepBench} (or via
 * bench/target/benchmarks.jar when built).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class KeyedStepBench {
    @Param({"session", "stepper", "states"})
    public String mode;

    @Param({"10000"})
    public int keys;

    private static final int I = 32, H = 128;
    private LstmSession session;
    private LstmStepper stepper;
    private String[] names;
    private float[] x, h, c, out, xk, outk;
    private StreamState[] states;

    @Setup
    public void setup() {
        SplittableRandom rnd = new SplittableRandom(20261202L);
        LstmConfig cfg = new LstmConfig(I, H, 1, false, 0, true);
        List<CellWeights> cells = new ArrayList<>();
        cells.add(new CellWeights(random(rnd, 4 * H, I), random(rnd, 4 * H, H), random(rnd, 4 * H), random(rnd, 4 * H), null));
        Lstm lstm = new Lstm(cfg, cells);
        x = new float[keys * I];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        out = new float[keys * H];
        switch (mode) {
            case "session" -> {
                session = new LstmSession(lstm);
                names = new String[keys];
                for (int k = 0; k < keys; k++) {
                    names[k] = "key-" + k;
                }
                xk = new float[I];
                outk = new float[H];
            }
            case "stepper" -> {
                stepper = new LstmStepper(lstm);
                h = new float[keys * stepper.hSize()];
                c = new float[keys * stepper.cSize()];
            }
            case "states" -> {
                stepper = new LstmStepper(lstm);
                states = new StreamState[keys];
            }
            default -> throw new IllegalArgumentException(mode);
        }
        System.err.println("KeyedStepBench: " + lstm.engineName() + ", " + keys + " keys, mode " + mode);
    }

    @TearDown(Level.Trial)
    public void close() {
        if (session != null) {
            session.close();
        }
    }

    private static Tensor random(SplittableRandom rnd, int... shape) {
        float[] v = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextDouble() * 2 - 1) * 0.2f;
        }
        return Tensor.of(shape, v);
    }

    @Benchmark
    public float[] stepAllKeys() {
        switch (mode) {
            case "session" -> {
                for (int k = 0; k < keys; k++) {
                    System.arraycopy(x, k * I, xk, 0, I);
                    session.step(names[k], xk, outk);
                }
                return outk;
            }
            case "stepper" -> stepper.step(keys, x, h, c, out);
            default -> stepper.step(states, x, out);
        }
        return out;
    }
}
