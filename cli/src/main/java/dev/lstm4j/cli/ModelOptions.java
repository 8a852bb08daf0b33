package dev.lstm4j.cli;

import dev.lstm4j.LstmModel;
import dev.lstm4j.io.ModelLoader;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options shared by every command that loads weights. */
final class ModelOptions {
    @Option(names = "--weights", required = true, paramLabel = "FILE", description = "Weights file (.safetensors).")
    Path weights;

    @Option(names = "--prefix", paramLabel = "P", description = "Key prefix of the LSTM tensors, e.g. lstm. (found when unambiguous).")
    String prefix;

    @Option(names = "--head", paramLabel = "P", description = "Key prefix of a Linear head, e.g. fc. (found when unambiguous).")
    String head;

    @Option(names = "--no-head", description = "Ignore any Linear head in the file.")
    boolean noHead;

    ModelLoader.Options loaderOptions() {
        return new ModelLoader.Options(prefix, head, noHead);
    }

    LstmModel load() {
        return ModelLoader.load(weights, loaderOptions());
    }
}
