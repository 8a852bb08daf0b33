package dev.lstm4j.cli;

import dev.lstm4j.LstmModel;
import dev.lstm4j.internal.io.ModelLoader;
import dev.lstm4j.StateDict;
import dev.lstm4j.LoadOptions;
import dev.lstm4j.Lstm4j;
import picocli.CommandLine;
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

    @Option(names = "--max-bytes", paramLabel = "N", description = {"Most bytes reading the file may expand to on the heap "
            + "(default: half the JVM's heap, at most 4 GiB; memory-mapped safetensors tensors do not count). Suffixes k, m, g."},
            converter = ByteSize.class)
    long maxBytes;

    LoadOptions loadOptions() {
        LoadOptions o = LoadOptions.defaults().withPrefix(prefix).withCheckpointKey(key).withMaxBytes(maxBytes);
        return noHead ? o.withoutHead() : o.withHead(head);
    }

    ModelLoader.Options loaderOptions() {
        ModelLoader.Options o = new ModelLoader.Options(prefix, head, noHead);
        return maxBytes > 0 ? o.withMaxBytes(maxBytes) : o;
    }

    /** The tensors of --weights (the state dict at --key in a checkpoint). */
    StateDict read() {
        return Lstm4j.readWeights(weights, loadOptions());
    }

    LstmModel load() {
        return Lstm4j.load(read(), loadOptions());
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
