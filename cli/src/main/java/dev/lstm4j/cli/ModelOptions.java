package dev.lstm4j.cli;

import dev.lstm4j.LoadOptions;
import dev.lstm4j.LstmModel;
import dev.lstm4j.ModelException;
import dev.lstm4j.Readout;
import dev.lstm4j.internal.io.PipelineLoader;
import dev.lstm4j.StateDict;
import dev.lstm4j.Lstm4j;
import picocli.CommandLine;
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

    @Option(names = "--key", paramLabel = "K", description = {"In a torch.save checkpoint dict, the entry holding the state dict, "
            + "e.g. model or state/model (found when only one could be it)."})
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

    @Option(names = "--max-bytes", paramLabel = "N", description = {"Most bytes reading the file may expand to on the heap "
            + "(default: half the JVM's heap, at most 4 GiB; memory-mapped safetensors tensors do not count). Suffixes k, m, g."},
            converter = ByteSize.class)
    long maxBytes;


    /** The tensors of --weights (the state dict at --key in a checkpoint). */
    StateDict read() {
        return Lstm4j.readWeights(weights, loadOptions());
    }

    /** --model, --prefix, --head, --no-head and --allow-unused as library options. */
    LoadOptions loadOptions() {
        LoadOptions o = LoadOptions.defaults().withPrefix(prefix).withCheckpointKey(key).withSpec(spec).withMaxBytes(maxBytes);
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
            err.println(Text.oneLine("lstm4j: warning: --allow-unused: the model '" + l.model().spec() + "' leaves out "
                    + String.join(", ", l.model().ignoredKeys()) + "; its results are not those of the saved network"));
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

    /** {@code 512m}, {@code 4g}, {@code 1000000}: a positive byte count. */
    static final class ByteSize implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            String v = value.trim().toLowerCase(java.util.Locale.ROOT);
            long unit = v.endsWith("k") ? 1L << 10 : v.endsWith("m") ? 1L << 20 : v.endsWith("g") ? 1L << 30 : 1;
            String digits = unit == 1 ? v : v.substring(0, v.length() - 1);
            long n;
            try {
                n = Math.multiplyExact(Long.parseLong(digits), unit);
            } catch (NumberFormatException | ArithmeticException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a byte count such as 512m or 4g");
            }
            if (n <= 0) {
                throw new CommandLine.TypeConversionException("'" + value + "': the byte count must be positive");
            }
            return n;
        }
    }
}
