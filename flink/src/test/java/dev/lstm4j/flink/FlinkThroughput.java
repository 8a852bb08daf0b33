package dev.lstm4j.flink;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.typeutils.TupleTypeInfo;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Events per second through source → lstm4j → discard on a local cluster, for docs/performance.md (not a test):
 * {@code FlinkThroughput <parallelism> <maxBatch> [events] [keys]}, model I = 32, H = 128, one layer. The source runs at
 * parallelism 1 and generates events cheaply; the time includes job start-up, so use enough events.
 */
public final class FlinkThroughput {
    static final int I = 32, H = 128;

    static final class Gen implements GeneratorFunction<Long, Tuple2<Integer, float[]>> {
        private final int keys;

        Gen(int keys) {
            this.keys = keys;
        }

        @Override
        public Tuple2<Integer, float[]> map(Long i) {
            float[] x = new float[I];
            for (int k = 0; k < I; k++) {
                x[k] = (float) Math.sin(i * 0.37 + k);
            }
            return Tuple2.of((int) (i % keys), x);
        }
    }

    public static void main(String[] args) throws Exception {
        int p = Integer.parseInt(args[0]), batch = Integer.parseInt(args[1]);
        long events = args.length > 2 ? Long.parseLong(args[2]) : 1_000_000;
        int keys = args.length > 3 ? Integer.parseInt(args[3]) : 10_000;
        Path model = TestModels.write(Files.createTempFile("lstm4j-bench", ".safetensors"), I, H, 1, 42);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(p);
        DataGeneratorSource<Tuple2<Integer, float[]>> source = new DataGeneratorSource<>(new Gen(keys), events, RateLimiterStrategy.noOp(),
                new TupleTypeInfo<>(Types.INT, PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO));
        LstmOperator.apply(env.fromSource(source, WatermarkStrategy.noWatermarks(), "events").setParallelism(1), Types.INT,
                        LstmOperator.<Integer>ofBytes(Files.readAllBytes(model), "m.safetensors", batch, 50), "lstm4j").setParallelism(p)
                .sinkTo(new DiscardingSink<>()).setParallelism(p);
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long t0 = System.nanoTime(), cpu0 = os.getProcessCpuTime();
        env.execute("lstm4j throughput");
        double s = (System.nanoTime() - t0) / 1e9, cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
        // on a shared machine the wall time depends on the neighbours; the process's CPU time much less
        System.out.printf("flink p=%d maxBatch=%d events=%d keys=%d: %.1f s, %.0f events/s; %.1f CPU s, %.0f events per CPU second%n",
                p, batch, events, keys, s, events / s, cpu, events / cpu);
        Files.deleteIfExists(model);
    }
}
