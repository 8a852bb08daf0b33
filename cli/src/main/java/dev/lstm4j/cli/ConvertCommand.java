package dev.lstm4j.cli;

import dev.lstm4j.LoadOptions;
import dev.lstm4j.Lstm4jException;
import dev.lstm4j.ModelSpec;
import dev.lstm4j.internal.io.PipelineLoader;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.io.Safetensors;
import dev.lstm4j.StateDict;
import dev.lstm4j.internal.io.WeightsFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/** {@code lstm4j convert}: any supported weights file to safetensors, tensors unchanged. */
@Command(name = "convert", header = "Writes any readable weights file (.pt, .npz, safetensors) as safetensors.", mixinStandardHelpOptions = true,
        description = {"Writes the state dict of a weights file (torch.save .pt, .npz or safetensors) as a safetensors file "
                + "that safetensors.torch.load_file reads. Every tensor keeps its name, order, dtype, shape and exact values; "
                + "a checkpoint's other entries (optimizer, epoch, ...) are left out. The written file is read back and "
                + "compared before the command reports success."},
        footerHeading = "%nExamples:%n",
        footer = {"  lstm4j convert --weights model.pt --out model.safetensors",
                "  lstm4j convert --weights model.pt --model \"emb > lstm > hn > fc\" --out model.safetensors",
                "  lstm4j convert --weights checkpoint.pt --key model --out model.safetensors",
                "  lstm4j convert --weights weights.npz --out model.safetensors"})
final class ConvertCommand implements Callable<Integer> {
    @Option(names = "--weights", required = true, paramLabel = "FILE",
            description = "Weights file: torch.save (.pt/.pth), .npz or safetensors, detected by content.")
    Path weights;

    @Option(names = "--key", paramLabel = "K", description = {"In a torch.save checkpoint dict, the entry holding the state dict, "
            + "e.g. model or state/model (found when only one could be it)."})
    String key;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The safetensors file to write (replaced if it exists).")
    Path out;

    @Option(names = "--model", paramLabel = "SPEC", description = {"The whole model, e.g. \"lstm > last > fc1 > relu > fc2\" (see run --help):",
            "checked against the tensors and stored in the file's metadata (lstm4j.model), so run needs no flags."})
    String modelSpec;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        try {
            if (Files.exists(out) && Files.exists(weights) && Files.isSameFile(out, weights)) {
                throw new Lstm4jException("--out " + out + " is the input file; choose another output path");
            }
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare --out " + out + ": " + e.getMessage(), e);
        }
        StateDict sd = WeightsFiles.read(weights, key);
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt"); // what transformers' loaders expect of a PyTorch safetensors file
        metadata.put("generator", "lstm4j convert");
        metadata.put("source", String.valueOf(weights.getFileName()));
        metadata.put("source_format", sd.format());
        if (sd.metadata().containsKey("key")) {
            metadata.put("source_key", sd.metadata().get("key"));
        }
        String stored = modelSpec(sd);
        if (stored != null) {
            metadata.put(ModelSpec.METADATA_KEY, stored);
        }
        Safetensors.write(out, sd.tensors(), metadata);
        verify(sd, Safetensors.read(out));
        TreeSet<String> dtypes = new TreeSet<>();
        for (Tensor t : sd.tensors().values()) {
            dtypes.add(t.dtype().torchName());
        }
        long bytes;
        try {
            bytes = Files.size(out);
        } catch (IOException e) {
            throw new UncheckedIOException(out + ": " + e.getMessage(), e);
        }
        spec.commandLine().getOut().println("wrote " + out + ": " + sd.tensors().size() + " tensors (" + String.join(", ", dtypes) + "), "
                + bytes + " bytes, from " + weights + " (" + sd.format()
                + (sd.metadata().containsKey("key") ? ", key '" + Text.oneLine(sd.metadata().get("key")) + "'" : "") + "); read back identical"
                + (stored == null ? "" : "; model '" + stored + "' stored in the metadata"));
        return 0;
    }

    /**
     * The spec to store: --model (checked against the tensors), or the one the file holds already; null otherwise, with
     * a note, since a guessed readout stored in the file would look declared.
     */
    private String modelSpec(StateDict sd) {
        if (modelSpec != null) {
            return PipelineLoader.load(sd, LoadOptions.defaults().withSpec(modelSpec)).spec().toString();
        }
        if (sd.metadata().containsKey(ModelSpec.METADATA_KEY)) {
            return PipelineLoader.load(sd, LoadOptions.defaults()).spec().toString();
        }
        spec.commandLine().getErr().println("lstm4j: note: no --model given, so no model spec is stored; run will find the LSTM and"
                + " its head by themselves (lstm > all > fc) or refuse unused tensors. Store one with --model \"lstm > last > fc\"");
        return null;
    }

    /** The written file must hold exactly what was read: same names in order, dtypes, shapes and values. */
    private void verify(StateDict expected, StateDict written) {
        if (!new ArrayList<>(expected.tensors().keySet()).equals(new ArrayList<>(written.tensors().keySet()))) {
            throw new IllegalStateException("convert wrote other tensor names than it read: " + written.tensors().keySet());
        }
        for (Map.Entry<String, Tensor> e : expected.tensors().entrySet()) {
            Tensor a = e.getValue();
            Tensor b = written.tensors().get(e.getKey());
            if (a.dtype() != b.dtype() || !Arrays.equals(a.shape(), b.shape())) {
                throw new IllegalStateException(e.getKey() + ": written as " + b + ", read as " + a);
            }
            for (int i = 0; i < a.elementCount(); i++) {
                if (Double.compare(a.at(i), b.at(i)) != 0) {
                    throw new IllegalStateException(e.getKey() + ": element " + i + " written as " + b.at(i) + ", read as " + a.at(i));
                }
            }
        }
    }
}
