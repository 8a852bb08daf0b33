package dev.lstm4j.cli;

import dev.lstm4j.LoadOptions;
import dev.lstm4j.LstmModel;
import dev.lstm4j.ModelException;
import dev.lstm4j.Readout;
import dev.lstm4j.internal.io.PipelineLoader;
import dev.lstm4j.internal.io.ModelLoader;
import dev.lstm4j.StateDict;
import dev.lstm4j.internal.io.WeightsFiles;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;

import java.nio.file.Path;

/** Options shared by every command that loads weights. */
final class ModelOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--weights", required = true, paramLabel = "FILE",
            description = "Weights file: safetensors, torch.save (.pt/.pth) or .npz, detected by content.")
    Path weights;

    @Option(names = "--key", paramLabel = "K", description = {"In a torch.save checkpoint dict, the entry holding the state dict,",
            "e.g. model or state/model (found when only one could be it)."})
    String key;

    @Option(names = "--prefix", paramLabel = "P", description = "Key prefix of the LSTM tensors, e.g. lstm. (found when unambiguous).")
    String prefix;

    @Option(names = "--head", paramLabel = "P", description = "Key prefix of a Linear head, e.g. fc. (found when unambiguous).")
    String head;

    @Option(names = "--no-head", description = "Ignore any Linear head in the file.")
    boolean noHead;

    @Option(names = "--model", paramLabel = "SPEC", description = {"The whole model in one line, e.g. \"emb > lstm > last > fc1 > relu > dropout > fc2\":",
            "[embedding >] LSTM > readout (all, last, last-valid, hn, mean, max) > head layers (state-dict prefixes,",
            "or relu, gelu, gelu-tanh, tanh, sigmoid, softmax, logsoftmax, dropout). Replaces --prefix/--head and the",
            "spec stored in the file by lstm4j convert. See docs/models.md."})
    String spec;

    @Option(names = "--allow-unused", description = {"Run even when the file holds tensors the model does not use (by default an error,",
            "since a skipped layer gives a wrong answer); they are listed on stderr."})
    boolean allowUnused;

    ModelLoader.Options loaderOptions() {
        return new ModelLoader.Options(prefix, head, noHead);
    }

    /** The tensors of --weights (the state dict at --key in a checkpoint). */
    StateDict read() {
        return WeightsFiles.read(weights, key);
    }

    /** --model, --prefix, --head, --no-head and --allow-unused as library options. */
    LoadOptions loadOptions() {
        LoadOptions o = LoadOptions.defaults().withPrefix(prefix).withCheckpointKey(key).withSpec(spec);
        o = noHead ? o.withoutHead() : head != null ? o.withHead(head) : o;
        return allowUnused ? o.allowingUnused() : o;
    }

    LstmModel load() {
        return load(read());
    }

    /** The model of a state dict already read; says loudly on stderr which tensors --allow-unused left out. */
    LstmModel load(StateDict sd) {
        return resolve(sd).model();
    }

    PipelineLoader.Loaded resolve(StateDict sd) {
        PipelineLoader.Loaded l = PipelineLoader.resolve(sd, loadOptions());
        if (!l.model().ignoredKeys().isEmpty()) {
            PrintWriter err = mixee != null ? mixee.commandLine().getErr() : new PrintWriter(System.err, true);
            err.println("lstm4j: warning: --allow-unused: the model '" + l.model().spec() + "' leaves out "
                    + String.join(", ", l.model().ignoredKeys()) + "; its results are not those of the saved network");
        }
        return l;
    }

    /**
     * The model, for a command that runs it one step at a time: only an LSTM with at most one Linear on each step
     * (readout all or last), since the stream's output at step t is that step's result.
     */
    LstmModel loadStepwise(String command) {
        LstmModel m = load();
        boolean ok = m.embedding() == null && (m.layers().isEmpty() || m.head() != null)
                && (m.readout() == Readout.ALL || m.readout() == Readout.LAST);
        if (!ok) {
            throw new ModelException(command + " runs an LSTM with at most one Linear on each step (lstm > all > fc); this model is '"
                    + m.spec() + "'. Use lstm4j run for the whole model");
        }
        return m;
    }
}
