package dev.lstm4j.flink;

import dev.lstm4j.Lstm4j;
import dev.lstm4j.LstmModel;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.Tensor;
import dev.lstm4j.Tolerance;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.api.java.typeutils.TupleTypeInfo;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.api.connector.source.lib.NumberSequenceSource;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiter;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator on a MiniCluster (2 task managers × 2 slots): each key's outputs equal {@code Lstm.forward} over its
 * events, with and without mini-batching; a failure mid-stream, restored from the last checkpoint, loses no output; a
 * savepoint taken at parallelism 2 continues every key at parallelism 4, also across a change of state backend.
 * The source runs at parallelism 1, so each key's events reach the operator in order.
 */
class LstmOperatorTest {
    private static final int I = 5, H = 24, KEYS = 16;
    private static final long SEED = new SplittableRandom().nextLong();

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(2).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    static Path dir;
    static Path model;
    static LstmModel lstm;

    /** Outputs seen by {@link Record}, keyed "key/step", across restarts and jobs of one test. */
    static final Map<String, float[]> SEEN = new ConcurrentHashMap<>();
    static final AtomicInteger COUNT = new AtomicInteger();
    static final AtomicBoolean FAIL_ONCE = new AtomicBoolean();
    static volatile int failAfter = Integer.MAX_VALUE;

    @BeforeAll
    static void model() {
        System.out.println("LstmOperatorTest seed " + SEED);
        model = TestModels.write(dir.resolve("model.safetensors"), I, H, 2, SEED);
        lstm = Lstm4j.load(model);
    }

    /** Event {@code index}: a key and I features, the same on every call (the source may regenerate after a restore). */
    static final class Events implements GeneratorFunction<Long, Tuple2<String, float[]>> {
        private final long seed;

        Events(long seed) {
            this.seed = seed;
        }

        @Override
        public Tuple2<String, float[]> map(Long index) {
            SplittableRandom rnd = new SplittableRandom(seed * 31 + index);
            float[] x = new float[I];
            for (int i = 0; i < I; i++) {
                x[i] = (float) (rnd.nextDouble() * 2 - 1);
            }
            return Tuple2.of("key-" + rnd.nextInt(KEYS), x);
        }
    }

    /** Records every output, and fails once after {@link #failAfter} outputs when armed. */
    static final class Record implements MapFunction<Tuple3<String, Long, float[]>, Tuple3<String, Long, float[]>> {
        @Override
        public Tuple3<String, Long, float[]> map(Tuple3<String, Long, float[]> v) {
            SEEN.put(v.f0 + "/" + v.f1, v.f2);
            if (COUNT.incrementAndGet() >= failAfter && FAIL_ONCE.compareAndSet(true, false)) {
                throw new IllegalStateException("injected failure after " + failAfter + " outputs");
            }
            return v;
        }
    }

    /** Lets {@link #GATE_AT} events through at once, then one per 20 ms until {@link #GATE_OPEN}: a savepoint lands mid-stream. */
    static final int GATE_AT = 300;
    static volatile boolean GATE_OPEN;
    static final AtomicInteger PASSED = new AtomicInteger();

    static final class Gate implements RateLimiterStrategy<NumberSequenceSource.NumberSequenceSplit> {
        @Override
        public RateLimiter<NumberSequenceSource.NumberSequenceSplit> createRateLimiter(int parallelism) {
            return permits -> GATE_OPEN || PASSED.addAndGet(permits) <= GATE_AT ? CompletableFuture.completedFuture(null)
                    : CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(20, TimeUnit.MILLISECONDS));
        }
    }

    private static final TypeInformation<Tuple2<String, float[]>> EVENT = new TupleTypeInfo<>(Types.STRING, PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO);

    /** source (parallelism 1) → lstm4j (parallelism p) → record → discard. */
    private static void build(StreamExecutionEnvironment env, int events, double perSecond, int p, int maxBatch) throws Exception {
        build(env, events, perSecond > 0 ? RateLimiterStrategy.perSecond(perSecond) : RateLimiterStrategy.noOp(), p, maxBatch);
    }

    private static void build(StreamExecutionEnvironment env, int events, RateLimiterStrategy<?> rate, int p, int maxBatch) throws Exception {
        @SuppressWarnings("unchecked")
        DataGeneratorSource<Tuple2<String, float[]>> source = new DataGeneratorSource<>(new Events(SEED), events,
                (RateLimiterStrategy<NumberSequenceSource.NumberSequenceSplit>) rate, EVENT);
        DataStream<Tuple2<String, float[]>> in = env.fromSource(source, WatermarkStrategy.noWatermarks(), "events").uid("events").setParallelism(1);
        LstmOperator<String> op = LstmOperator.ofBytes(Files.readAllBytes(model), "model.safetensors", maxBatch, 20);
        LstmOperator.apply(in, Types.STRING, op, "lstm4j-op").setParallelism(p)
                .map(new Record()).uid("record").setParallelism(p)
                .sinkTo(new DiscardingSink<>()).uid("discard");
    }

    private static void reset() {
        SEEN.clear();
        COUNT.set(0);
        FAIL_ONCE.set(false);
        failAfter = Integer.MAX_VALUE;
        PASSED.set(0);
        GATE_OPEN = false;
    }

    /** Every key's every step was emitted, with the values Lstm.forward gives over its events. */
    private static void assertAllOutputs(int events, String label) {
        Events gen = new Events(SEED);
        Map<String, List<float[]>> inputs = new TreeMap<>();
        for (long e = 0; e < events; e++) {
            Tuple2<String, float[]> ev = gen.map(e);
            inputs.computeIfAbsent(ev.f0, k -> new ArrayList<>()).add(ev.f1);
        }
        Tolerance tol = new Tolerance(2e-7 * (I + H + 3) * 50);
        int total = 0;
        for (Map.Entry<String, List<float[]>> e : inputs.entrySet()) {
            List<float[]> xs = e.getValue();
            float[] flat = new float[xs.size() * I];
            for (int t = 0; t < xs.size(); t++) {
                System.arraycopy(xs.get(t), 0, flat, t * I, I);
            }
            LstmOutput expected = lstm.lstm().forward(Tensor.of(new int[] {xs.size(), I}, flat));
            float[] got = new float[xs.size() * H];
            for (int t = 0; t < xs.size(); t++) {
                float[] y = SEEN.get(e.getKey() + "/" + (t + 1));
                assertNotNull(y, label + ": output of " + e.getKey() + " step " + (t + 1) + " is missing (seed " + SEED + ")");
                System.arraycopy(y, 0, got, t * H, H);
            }
            assertEquals(null, SEEN.get(e.getKey() + "/" + (xs.size() + 1)), label + ": " + e.getKey() + " has more steps than events");
            Tolerance.Report r = tol.check(label + " " + e.getKey() + " (seed " + SEED + ")", expected.output(), Tensor.of(new int[] {xs.size(), H}, got));
            assertTrue(r.ok(), r::toString);
            total += xs.size();
        }
        assertEquals(events, total);
        assertEquals(events, SEEN.size(), label + ": one output per event");
    }

    @ParameterizedTest(name = "parallelism {0}, maxBatch {1}")
    @CsvSource({"1, 1", "2, 1", "2, 64"})
    void eachKeysOutputsEqualForward(int p, int maxBatch) throws Exception {
        reset();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        build(env, 600, 0, p, maxBatch);
        env.execute("lstm4j equality p=" + p + " batch=" + maxBatch);
        assertAllOutputs(600, "p=" + p + " maxBatch=" + maxBatch);
    }

    @Test
    void failureMidStreamRestoresFromTheLastCheckpointWithNoOutputLost() throws Exception {
        reset();
        int events = 800;
        failAfter = 500;
        FAIL_ONCE.set(true);
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 2);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.enableCheckpointing(100);
        build(env, events, 800, 2, 32);
        env.execute("lstm4j failure");
        assertTrue(!FAIL_ONCE.get(), "the failure was injected");
        assertTrue(COUNT.get() > events, "outputs after the last checkpoint were replayed: " + COUNT.get() + " outputs for " + events + " events");
        assertAllOutputs(events, "after a failure");
    }

    @ParameterizedTest(name = "{0} at parallelism 2 -> {1} at parallelism 4")
    @CsvSource({"hashmap, rocksdb", "rocksdb, hashmap"})
    void savepointAtParallelism2ContinuesEveryKeyAt4(String before, String after) throws Exception {
        reset();
        int events = 900;
        Configuration first = new Configuration();
        first.set(StateBackendOptions.STATE_BACKEND, before);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(first);
        build(env, events, new Gate(), 2, 16);
        JobClient job = env.executeAsync("lstm4j before savepoint");
        long deadline = System.currentTimeMillis() + 60_000;
        while (COUNT.get() < GATE_AT && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        String savepoint = job.stopWithSavepoint(false, dir.resolve("savepoints").toUri().toString(), SavepointFormatType.CANONICAL).get();
        int seenBefore = SEEN.size();
        assertTrue(seenBefore >= GATE_AT && seenBefore < events, "the savepoint was taken mid-stream, after " + seenBefore + " outputs");
        GATE_OPEN = true;

        Configuration second = new Configuration();
        second.set(StateBackendOptions.STATE_BACKEND, after);
        second.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        StreamExecutionEnvironment env2 = StreamExecutionEnvironment.getExecutionEnvironment(second);
        build(env2, events, 0, 4, 16);
        env2.execute("lstm4j after savepoint");
        assertAllOutputs(events, before + " p=2 -> " + after + " p=4");
    }
}
