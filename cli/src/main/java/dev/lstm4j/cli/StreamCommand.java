package dev.lstm4j.cli;

import dev.lstm4j.InputException;
import dev.lstm4j.Linear;
import dev.lstm4j.LstmModel;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.io.Csv;
import dev.lstm4j.LstmSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code lstm4j stream}: one time step per stdin line in, that step's output out, at once. */
@Command(name = "stream", header = "Runs one time step per stdin line and answers each line at once.", mixinStandardHelpOptions = true,
        description = {"Reads one time step per line from stdin (CSV: the features, or with --keyed a stream key first)",
                "and writes that step's output as a CSV line as soon as it is computed: the head's output when the",
                "model has a head, else h_t of the last layer. Each key is its own sequence, carrying its (h, c)",
                "from line to line. A first line that is not numbers is a header. Blank lines and lines starting",
                "with # are skipped. The LSTM must be unidirectional."},
        footerHeading = "%nExamples:%n",
        footer = {"  sensor-feed | lstm4j stream --weights model.safetensors",
                "  lstm4j stream --weights model.safetensors --keyed < events.csv      (lines like: user-7,0.5,1.25)",
                "  lstm4j stream --weights model.safetensors --load-state s.bin --save-state s.bin < today.csv"})
final class StreamCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--keyed", description = "The first column of each line is a stream key; each key is its own sequence.")
    boolean keyed;

    @Option(names = "--load-state", paramLabel = "FILE", description = "Start from the streams' state saved by --save-state.")
    Path loadState;

    @Option(names = "--save-state", paramLabel = "FILE", description = "At the end of input, save every stream's (h, c) to FILE.")
    Path saveState;

    @Spec
    CommandSpec spec;

    private final InputStream stdin;

    StreamCommand() {
        this(System.in);
    }

    StreamCommand(InputStream stdin) {
        this.stdin = stdin;
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        LstmModel m = model.loadStepwise("stream");
        LstmSession session = loadState == null ? new LstmSession(m.lstm()) : LstmSession.restore(m.lstm(), read(loadState));
        Linear head = m.head();
        boolean f32 = m.lstm().precision() == Precision.F32;
        int features = m.lstm().config().inputSize();
        int first = keyed ? 1 : 0;
        BufferedReader in = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8));
        String line;
        long lineNo = 0;
        boolean seenData = false;
        double[] x = new double[features];
        while ((line = in.readLine()) != null) {
            lineNo++;
            if (lineNo == 1 && line.startsWith("\uFEFF")) {
                line = line.substring(1);
            }
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] cells = line.split(",", -1);
            if (cells.length != first + features) {
                throw new InputException("stdin line " + lineNo + ": expected " + (keyed ? "a key and " : "") + features + " feature"
                        + (features == 1 ? "" : "s") + " (input_size), got " + cells.length + " column" + (cells.length == 1 ? "" : "s")
                        + (keyed ? "" : "; lines with a stream key first need --keyed"));
            }
            boolean numbers = true;
            for (int k = 0; k < features; k++) {
                Double v = Csv.number(cells[first + k]);
                if (v == null) {
                    if (!seenData) {
                        numbers = false;
                        break;
                    }
                    throw new InputException("stdin line " + lineNo + ", column " + (first + k + 1) + ": '" + cells[first + k].strip()
                            + "' is not a number");
                }
                x[k] = v;
            }
            if (!numbers) {
                // a header: answer with one naming the output columns
                out.println(header(m, keyed));
                out.flush();
                seenData = true;
                continue;
            }
            seenData = true;
            String key = keyed ? cells[0].strip() : "";
            double[] h = session.step(key, x);
            double[] y = head == null ? h : head.apply(Tensor.of(m.lstm().precision().dtype(), new int[] {h.length}, h)).toDoubleArray();
            StringBuilder b = new StringBuilder();
            if (keyed) {
                b.append(key);
            }
            for (int k = 0; k < y.length; k++) {
                if (k > 0 || keyed) {
                    b.append(',');
                }
                b.append(Csv.text(y[k], f32));
            }
            out.println(b);
            out.flush();
        }
        if (saveState != null) {
            try {
                Files.write(saveState, session.save());
            } catch (IOException e) {
                throw new UncheckedIOException("--save-state " + saveState + ": cannot write: " + e.getMessage(), e);
            }
        }
        return 0;
    }

    private static String header(LstmModel m, boolean keyed) {
        List<String> names = new ArrayList<>();
        if (keyed) {
            names.add("key");
        }
        int n = m.head() == null ? m.lstm().config().outputHiddenSize() : m.head().outFeatures();
        for (int k = 0; k < n; k++) {
            names.add((m.head() == null ? "h" : "y") + k);
        }
        return String.join(",", names);
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new InputException("--load-state " + file + ": no such file");
        } catch (IOException e) {
            throw new UncheckedIOException("--load-state " + file + ": " + e.getMessage(), e);
        }
    }
}
