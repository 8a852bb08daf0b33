package dev.lstm4j.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.apache.spark.sql.functions.expr;

/**
 * Sequences per second through {@link LstmTransformer}, for docs/performance.md (not a test):
 * {@code SparkThroughput <master> [rows]}, e.g. {@code local[1]} and {@code local[2]}; model I = 32, H = 128, one layer;
 * sequences of 1..20 steps, generated and cached before timing; the output is written to Spark's no-op sink.
 */
public final class SparkThroughput {
    public static void main(String[] args) throws Exception {
        String master = args[0];
        long rows = args.length > 1 ? Long.parseLong(args[1]) : 200_000;
        Path model = TestModels.write(Files.createTempFile("lstm4j-bench", ".safetensors"), 32, 128, 1, 42);
        SparkSession spark = SparkSession.builder().master(master).appName("lstm4j-throughput").config("spark.ui.enabled", "false").getOrCreate();
        int parts = Math.max(2, spark.sparkContext().defaultParallelism() * 4);
        Dataset<Row> df = spark.range(0, rows, 1, parts)
                .withColumn("seq", expr("transform(sequence(1, (1 + cast(id % 20 as int)) * 32), i -> cast(sin(id * 0.37 + i) as float))"))
                .cache();
        df.count();
        LstmTransformer t = new LstmTransformer().setInputCol("seq").setOutputCol("out").setModelPath(model.toString()).setFeatureCount(32);
        t.transform(df).write().format("noop").mode("overwrite").save();  // warm-up: JIT, model load
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        double best = Double.MAX_VALUE, bestCpu = 0;
        for (int round = 0; round < 3; round++) {
            long t0 = System.nanoTime(), cpu0 = os.getProcessCpuTime();
            t.transform(df).write().format("noop").mode("overwrite").save();
            double s = (System.nanoTime() - t0) / 1e9;
            if (s < best) {
                best = s;
                bestCpu = (os.getProcessCpuTime() - cpu0) / 1e9;
            }
        }
        System.out.printf("spark %s rows=%d (1..20 steps, I=32, H=128): best of 3 %.2f s, %.0f sequences/s (%.1f CPU s in that round)%n",
                master, rows, best, rows / best, bestCpu);
        spark.stop();
        Files.deleteIfExists(model);
    }
}
