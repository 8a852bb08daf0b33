package dev.lstm4j.cli;

import dev.lstm4j.LstmModel;
import dev.lstm4j.internal.io.ModelLoader;
import dev.lstm4j.StateDict;
import dev.lstm4j.internal.io.WeightsFiles;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options shared by every command that loads weights. */
final class ModelOptions {
    @Option(names = "--weights", required = true, paramLabel = "FILE",
            description = "Weights file: safetensors, torch.save (.pt/.pth) or .npz, detected by content.")
    Path weights;

    @Option(names = "--key", paramLabel = "K", description = {"In a torch.save checkpoint dict, the entry holding the state dict, "
            + "e.g. model or state/model (found when only one could be it)."})
    String key;

    @Option(names = "--prefix", paramLabel = "P", description = "Key prefix of the LSTM tensors, e.g. lstm. (found when unambiguous).")
    String prefix;

    @Option(names = "--head", paramLabel = "P", description = "Key prefix of a Linear head, e.g. fc. (found when unambiguous).")
    String head;

    @Option(names = "--no-head", description = "Ignore any Linear head in the file.")
    boolean noHead;

    ModelLoader.Options loaderOptions() {
        return new ModelLoader.Options(prefix, head, noHead);
    }

    /** The tensors of --weights (the state dict at --key in a checkpoint). */
    StateDict read() {
        return WeightsFiles.read(weights, key);
    }

    LstmModel load() {
        return ModelLoader.fromStateDict(read(), loaderOptions());
    }
}
