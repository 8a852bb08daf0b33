package dev.lstm4j.spark;

import dev.lstm4j.Lstm4j;
import dev.lstm4j.LstmModel;
import dev.lstm4j.Tensor;
import dev.lstm4j.Tolerance;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The transformer in local[2]: outputs equal {@code Lstm.forward} on the same rows; a saved pipeline gives the same result. */
class LstmTransformerTest {
    private static final int I = 4, H = 16, ROWS = 100_000, MAX_T = 12;
    private static final long SEED = new SplittableRandom().nextLong();

    @TempDir
    static Path dir;
    static SparkSession spark;
    static Path model;
    static LstmModel lstm;

    @BeforeAll
    static void start() {
        System.out.println("LstmTransformerTest seed " + SEED);
        spark = SparkSession.builder().master("local[2]").appName("lstm4j-test").config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4").getOrCreate();
        model = TestModels.write(dir.resolve("model.safetensors"), I, H, 2, SEED);
        lstm = Lstm4j.load(model);
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    /** Row r: an id, a nested (T, I) sequence of random length 1..MAX_T. */
    private static float[] sequence(long seed, int r) {
        SplittableRandom rnd = new SplittableRandom(seed * 1_000_003 + r);
        float[] x = new float[(1 + rnd.nextInt(MAX_T)) * I];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return x;
    }

    private static List<List<Float>> nested(float[] x) {
        List<List<Float>> steps = new ArrayList<>();
        for (int t = 0; t < x.length / I; t++) {
            List<Float> step = new ArrayList<>();
            for (int i = 0; i < I; i++) {
                step.add(x[t * I + i]);
            }
            steps.add(step);
        }
        return steps;
    }

    private static Dataset<Row> nestedFrame(int rows) {
        List<Row> data = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
            data.add(RowFactory.create(r, nested(sequence(SEED, r))));
        }
        StructType schema = new StructType().add("id", DataTypes.IntegerType)
                .add("seq", DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType)));
        return spark.createDataFrame(data, schema).repartition(8);
    }

    private static float[] floats(List<?> l) {
        float[] v = new float[l.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = ((Number) l.get(i)).floatValue();
        }
        return v;
    }

    /** Compares each row's output with Lstm.forward on that row's sequence (unbatched), at its last step. */
    private static void assertMatchesForward(List<Row> rows, int expectedRows) {
        assertEquals(expectedRows, rows.size());
        Tolerance tol = new Tolerance(2e-7 * (I + H + 3) * MAX_T);
        boolean[] seen = new boolean[expectedRows];
        for (Row row : rows) {
            int id = row.getInt(0);
            seen[id] = true;
            float[] x = sequence(SEED, id);
            int t = x.length / I;
            Tensor all = lstm.lstm().forward(Tensor.of(new int[] {t, I}, x)).output();
            float[] last = new float[H];
            for (int k = 0; k < H; k++) {
                last[k] = (float) all.get(t - 1, k);
            }
            Tolerance.Report r = tol.check("row " + id + " (seed " + SEED + ")", Tensor.of(new int[] {H}, last),
                    Tensor.of(new int[] {H}, floats(row.getList(2))));
            assertTrue(r.ok(), r::toString);
        }
        for (int i = 0; i < expectedRows; i++) {
            assertTrue(seen[i], "row " + i + " is missing");
        }
    }

    @Test
    void hundredThousandMixedLengthSequencesEqualForward() {
        LstmTransformer t = new LstmTransformer().setInputCol("seq").setOutputCol("out").setModelPath(model.toString());
        List<Row> rows = t.transform(nestedFrame(ROWS)).collectAsList();
        assertMatchesForward(rows, ROWS);
    }

    @Test
    void savedPipelineGivesTheSameResult() throws Exception {
        LstmTransformer t = new LstmTransformer().setInputCol("seq").setOutputCol("out").setModelPath(model.toString()).setBatchSize(32);
        PipelineModel fitted = new Pipeline().setStages(new PipelineStage[] {t}).fit(nestedFrame(10));
        Dataset<Row> frame = nestedFrame(600);
        List<Row> before = fitted.transform(frame).orderBy("id").collectAsList();
        String saved = dir.resolve("pipeline").toString();
        fitted.write().overwrite().save(saved);
        PipelineModel loaded = PipelineModel.load(saved);
        LstmTransformer back = (LstmTransformer) loaded.stages()[0];
        assertEquals(model.toString(), back.getModelPath());
        assertEquals(32, (Integer) back.getOrDefault(back.batchSize()));
        List<Row> after = loaded.transform(frame).orderBy("id").collectAsList();
        assertEquals(before, after);
        assertMatchesForward(after, 600);
    }

    @Test
    void flatFeatureMajorInputWithLengthsAndEverySteps() {
        // each row: I series of T_pad steps, flattened feature after feature, padded with junk past the row's length
        int rows = 500, pad = MAX_T + 3;
        List<Row> data = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            float[] x = sequence(SEED, r);
            int t = x.length / I;
            List<Double> flat = new ArrayList<>();
            for (int i = 0; i < I; i++) {
                for (int s = 0; s < pad; s++) {
                    flat.add(s < t ? (double) x[s * I + i] : 99.0);
                }
            }
            data.add(RowFactory.create(r, flat, t));
        }
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("flat", DataTypes.createArrayType(DataTypes.DoubleType))
                .add("len", DataTypes.IntegerType);
        LstmTransformer t = new LstmTransformer().setInputCol("flat").setOutputCol("out").setModelPath(model.toString())
                .setFeatureCount(I).setLayout(LstmTransformer.FEATURE_MAJOR).setLengthsCol("len").setReturnSequences(true).setShipModel(false);
        List<Row> out = t.transform(spark.createDataFrame(data, schema)).collectAsList();
        assertEquals(rows, out.size());
        Tolerance tol = new Tolerance(2e-7 * (I + H + 3) * MAX_T);
        for (Row row : out) {
            float[] x = sequence(SEED, row.getInt(0));
            int steps = x.length / I;
            Tensor expected = lstm.lstm().forward(Tensor.of(new int[] {steps, I}, x)).output();
            List<Object> got = row.getList(3);
            assertEquals(steps, got.size(), "one output per valid step");
            float[] all = new float[steps * H];
            for (int s = 0; s < steps; s++) {
                System.arraycopy(floats(scala.jdk.javaapi.CollectionConverters.asJava((scala.collection.Seq<?>) got.get(s))), 0, all, s * H, H);
            }
            Tolerance.Report r = tol.check("row " + row.getInt(0), expected, Tensor.of(new int[] {steps, H}, all));
            assertTrue(r.ok(), r::toString);
        }
    }

    @Test
    void wrongInputsFailWithWhatWasExpected() {
        LstmTransformer t = new LstmTransformer().setInputCol("nope").setModelPath(model.toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.transform(nestedFrame(3)));
        assertTrue(e.getMessage().contains("\"nope\" is not a column"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.setLayout("batch_first"));
    }
}
