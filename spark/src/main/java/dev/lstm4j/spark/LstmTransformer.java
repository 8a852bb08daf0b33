package dev.lstm4j.spark;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * A Spark ML {@code Transformer} that runs an LSTM over a column of sequences and writes the model's output: by default
 * the output at each row's last valid step (the last layer's h_t, or the head's output when the model has one), or with
 * {@link #setReturnSequences} the output of every valid step.
 *
 * <p>Input: {@code array<array<float>>} (T rows of I features, or I rows of T steps with layout {@code feature_major}),
 * or {@code array<float>} of T·I values with {@link #setFeatureCount}. Float and double elements are both accepted.
 * Rows may have different lengths; {@link #setLengthsCol} names an integer column of valid lengths when rows are
 * padded.
 *
 * <p>Each partition is scored in batches: rows of similar length run together through one batched forward pass
 * (packed sequences), on the fast path. The model is loaded once per executor JVM, keyed by the SHA-256 of its file:
 * shipped to executors as a broadcast of the file's bytes ({@code shipModel = true}, the default), or read by each
 * executor from {@code modelPath} on a file system they all see ({@code shipModel = false}).
 *
 * <p>Saved and loaded with Spark ML persistence ({@code DefaultParamsWritable}, {@link #load}); the model file is not
 * copied into the saved pipeline, only its path.
 */
public final class LstmTransformer extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    public static final String TIME_MAJOR = "time_major";
    public static final String FEATURE_MAJOR = "feature_major";

    private final String uid;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final Param<String> modelPath;
    private final Param<String> layout;
    private final Param<String> lengthsCol;
    private final IntParam featureCount;
    private final IntParam batchSize;
    private final BooleanParam returnSequences;
    private final BooleanParam shipModel;

    public LstmTransformer() {
        this(Identifiable.randomUID("lstm4j"));
    }

    /** The constructor Spark ML persistence calls when it loads a saved transformer. */
    public LstmTransformer(String uid) {
        this.uid = uid;
        inputCol = new Param<>(this, "inputCol", "column of sequences: array<array<float>> or array<float> (with featureCount)");
        outputCol = new Param<>(this, "outputCol", "column to write the outputs to");
        modelPath = new Param<>(this, "modelPath", "the weights file: .safetensors, .pt or .npz");
        layout = new Param<>(this, "layout", "time_major: T steps of I features (default); feature_major: I series of T steps");
        lengthsCol = new Param<>(this, "lengthsCol", "integer column of valid lengths, for padded rows (empty: every row's full length)");
        featureCount = new IntParam(this, "featureCount", "features per step I, for array<float> input (0: the model's input size)");
        batchSize = new IntParam(this, "batchSize", "rows per batched forward pass");
        returnSequences = new BooleanParam(this, "returnSequences", "write every valid step's output (array<array<float>>) instead of the last one's");
        shipModel = new BooleanParam(this, "shipModel", "broadcast the model file's bytes from the driver (true) or read modelPath on each executor (false)");
        setDefault(outputCol, uid + "__output");
        setDefault(layout, TIME_MAJOR);
        setDefault(lengthsCol, "");
        setDefault(featureCount, 0);
        setDefault(batchSize, 64);
        setDefault(returnSequences, false);
        setDefault(shipModel, true);
    }

    @Override
    public String uid() {
        return uid;
    }

    // Spark ML finds a stage's params through its public no-argument methods that return a Param
    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public Param<String> modelPath() {
        return modelPath;
    }

    public Param<String> layout() {
        return layout;
    }

    public Param<String> lengthsCol() {
        return lengthsCol;
    }

    public IntParam featureCount() {
        return featureCount;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public BooleanParam returnSequences() {
        return returnSequences;
    }

    public BooleanParam shipModel() {
        return shipModel;
    }

    public LstmTransformer setInputCol(String v) {
        set(inputCol, v);
        return this;
    }

    public LstmTransformer setOutputCol(String v) {
        set(outputCol, v);
        return this;
    }

    public LstmTransformer setModelPath(String v) {
        set(modelPath, v);
        return this;
    }

    /** {@link #TIME_MAJOR} (default) or {@link #FEATURE_MAJOR}. */
    public LstmTransformer setLayout(String v) {
        if (!TIME_MAJOR.equals(v) && !FEATURE_MAJOR.equals(v)) {
            throw new IllegalArgumentException("layout: expected \"" + TIME_MAJOR + "\" or \"" + FEATURE_MAJOR + "\", got \"" + v + "\"");
        }
        set(layout, v);
        return this;
    }

    public LstmTransformer setLengthsCol(String v) {
        set(lengthsCol, v);
        return this;
    }

    public LstmTransformer setFeatureCount(int v) {
        set(featureCount, v);
        return this;
    }

    public LstmTransformer setBatchSize(int v) {
        if (v < 1) {
            throw new IllegalArgumentException("batchSize must be ≥ 1, got " + v);
        }
        set(batchSize, v);
        return this;
    }

    public LstmTransformer setReturnSequences(boolean v) {
        set(returnSequences, v);
        return this;
    }

    public LstmTransformer setShipModel(boolean v) {
        set(shipModel, v);
        return this;
    }

    public String getInputCol() {
        return getOrDefault(inputCol);
    }

    public String getOutputCol() {
        return getOrDefault(outputCol);
    }

    public String getModelPath() {
        return getOrDefault(modelPath);
    }

    public String getLayout() {
        return getOrDefault(layout);
    }

    public String getLengthsCol() {
        return getOrDefault(lengthsCol);
    }

    @Override
    public StructType transformSchema(StructType schema) {
        String in = getInputCol();
        if (!Arrays.asList(schema.fieldNames()).contains(in)) {
            throw new IllegalArgumentException("inputCol \"" + in + "\" is not a column; the columns are " + Arrays.toString(schema.fieldNames()));
        }
        DataType t = schema.apply(in).dataType();
        boolean nested = isNumericArray(t, 2), flat = isNumericArray(t, 1);
        if (!nested && !flat) {
            throw new IllegalArgumentException("inputCol \"" + in + "\": expected array<array<float>> or array<float>, got " + t.simpleString());
        }
        String lengths = getLengthsCol();
        if (!lengths.isEmpty()) {
            if (!Arrays.asList(schema.fieldNames()).contains(lengths)) {
                throw new IllegalArgumentException("lengthsCol \"" + lengths + "\" is not a column; the columns are " + Arrays.toString(schema.fieldNames()));
            }
            DataType lt = schema.apply(lengths).dataType();
            if (!(lt instanceof IntegerType) && !(lt instanceof LongType)) {
                throw new IllegalArgumentException("lengthsCol \"" + lengths + "\": expected int or bigint, got " + lt.simpleString());
            }
        }
        if (Arrays.asList(schema.fieldNames()).contains(getOutputCol())) {
            throw new IllegalArgumentException("outputCol \"" + getOutputCol() + "\" already exists; choose another name");
        }
        DataType out = DataTypes.createArrayType(DataTypes.FloatType, false);
        if ((Boolean) getOrDefault(returnSequences)) {
            out = DataTypes.createArrayType(out, false);
        }
        return schema.add(new StructField(getOutputCol(), out, true, org.apache.spark.sql.types.Metadata.empty()));
    }

    private static boolean isNumericArray(DataType t, int depth) {
        for (int d = 0; d < depth; d++) {
            if (!(t instanceof ArrayType)) {
                return false;
            }
            t = ((ArrayType) t).elementType();
        }
        return t instanceof NumericType;
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType outSchema = transformSchema(dataset.schema());
        if (!isSet(modelPath)) {
            throw new IllegalArgumentException("modelPath is not set; call setModelPath(\"/path/to/model.safetensors\")");
        }
        SparkSession spark = dataset.sparkSession();
        String path = getModelPath();
        String name = Path.of(path).getFileName().toString();
        Broadcast<byte[]> bytes = null;
        if ((Boolean) getOrDefault(shipModel)) {
            byte[] weights = Models.read(Path.of(path));
            Models.of(weights, name);  // fail on the driver, not in a task, when the file is not a model
            bytes = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(weights);
        }
        StructType schema = dataset.schema();
        PartitionScorer scorer = new PartitionScorer(bytes, path, name, schema.fieldIndex(getInputCol()),
                isNumericArray(schema.apply(getInputCol()).dataType(), 2), FEATURE_MAJOR.equals(getLayout()),
                getLengthsCol().isEmpty() ? -1 : schema.fieldIndex(getLengthsCol()), (Integer) getOrDefault(featureCount), (Integer) getOrDefault(batchSize),
                (Boolean) getOrDefault(returnSequences));
        JavaRDD<Row> rows = dataset.toDF().javaRDD().mapPartitions(scorer);
        return spark.createDataFrame(rows, outSchema);
    }

    @Override
    public LstmTransformer copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    /** Reads a transformer saved with {@code write().save(path)}. */
    public static MLReader<LstmTransformer> read() {
        return new DefaultParamsReader<>();
    }

    public static LstmTransformer load(String path) {
        return read().load(path);
    }
}
