package dev.lstm4j;

import dev.lstm4j.internal.SharedModels;
import dev.lstm4j.internal.io.Csv;
import dev.lstm4j.internal.io.PipelineLoader;
import dev.lstm4j.internal.io.Npy;
import dev.lstm4j.internal.io.Safetensors;
import dev.lstm4j.internal.io.WeightsFiles;

import java.nio.file.Path;
import java.util.Map;

/**
 * The entry point: load a model from the file PyTorch saved, read and write arrays.
 *
 * <pre>{@code
 * LstmModel model = Lstm4j.load(Path.of("model.safetensors"));
 * Tensor x = Lstm4j.readNpy(Path.of("batch.npy"));            // (B, T, I)
 * LstmModel.Result r = model.forward(x);
 * }</pre>
 *
 * <p>Every method is thread-safe. Errors are unchecked {@link Lstm4jException}s: {@link FileFormatException}
 * for a file that cannot be read, {@link ModelException} for tensors that do not make a valid LSTM,
 * {@link InputException} for data that does not fit the model.
 */
public final class Lstm4j {
    private Lstm4j() {
    }

    /** This library's version, from its jar's manifest ({@code "dev"} when run from classes). */
    public static String version() {
        String v = Lstm4j.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /**
     * Loads a model from {@code .safetensors}, {@code torch.save} ({@code .pt}/{@code .pth}) or {@code .npz} weights,
     * detected by content: as the spec stored in the file says ({@link ModelSpec#METADATA_KEY}, written by
     * {@code lstm4j convert}), else the LSTM and the Linear head beside it, found by key names and shapes, the head on
     * every step ({@code lstm > all > fc}). Declare any other model with {@link LoadOptions#withSpec}.
     *
     * @throws FileFormatException when the file cannot be read
     * @throws ModelException      when its tensors do not make a valid model, the choice is ambiguous, or the model
     *                             leaves tensors of the file unused (the message names them and a spec that uses them)
     */
    public static LstmModel load(Path weights) {
        return load(weights, LoadOptions.defaults());
    }

    /** As {@link #load(Path)}, with a prefix, head, checkpoint key or engine given in {@code options}. */
    public static LstmModel load(Path weights, LoadOptions options) {
        return load(readWeights(weights, options), options);
    }

    /** Builds a model from tensors already read, e.g. by {@link #readWeights(Path)}. */
    public static LstmModel load(StateDict weights, LoadOptions options) {
        LstmModel m = PipelineLoader.load(weights, options);
        return m.withEngine(options.engine());
    }

    /**
     * The model in a weights file's bytes, loaded once per JVM and shared by every caller that passes the same bytes
     * (compared by their SHA-256): for engines that run many tasks in one JVM, such as Spark executors, Flink task
     * managers and Kafka Streams threads. Memory-mapped tensors stay valid after the staging copy is deleted.
     *
     * @param fileName the file's name, for messages (e.g. {@code model.safetensors})
     */
    public static LstmModel loadShared(byte[] weights, String fileName) {
        return loadShared(weights, fileName, LoadOptions.defaults());
    }

    /** As {@link #loadShared(byte[], String)}, with load options (models with other options are loaded apart). */
    public static LstmModel loadShared(byte[] weights, String fileName, LoadOptions options) {
        return SharedModels.of(weights, fileName, options, path -> load(path, options));
    }

    /** Every tensor of a weights file, in file order, with the file's metadata. */
    public static StateDict readWeights(Path weights) {
        return readWeights(weights, LoadOptions.defaults());
    }

    /** As {@link #readWeights(Path)}, taking the state dict at the options' checkpoint key. */
    public static StateDict readWeights(Path weights, LoadOptions options) {
        return WeightsFiles.read(weights, options.checkpointKey(), options.maxBytes() > 0 ? options.maxBytes() : WeightsFiles.defaultMaxBytes());
    }

    /** Reads a {@code .npy} array (float16/32/64, integers, bool; either byte order). */
    public static Tensor readNpy(Path file) {
        return Npy.read(file);
    }

    /** Writes a tensor as {@code .npy}, as {@code numpy.save} does. */
    public static void writeNpy(Path file, Tensor tensor) {
        Npy.write(file, tensor);
    }

    /**
     * Reads a CSV file of numbers, one time step per row and one feature per column, as a {@code (T, I)} tensor in
     * {@code dtype}; a first row with no number in it is a header.
     */
    public static Tensor readCsv(Path file, DType dtype) {
        return Csv.read(file, dtype).values();
    }

    /** Writes tensors and string metadata as a {@code .safetensors} file, in the given order. */
    public static void writeSafetensors(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        Safetensors.write(file, tensors, metadata);
    }
}
