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
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
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
        description = {"Reads one time step per line from stdin (CSV: the features, or with --keyed a stream key first) "
                + "and writes that step's output as a CSV line as soon as it is computed: the head's output when the "
                + "model has a head, else h_t of the last layer. Each key is its own sequence, carrying its (h, c) "
                + "from line to line. A first line in which no feature is a number is a header. Blank lines and lines starting "
                + "with # are skipped. The LSTM must be unidirectional.",
                "A bad line (wrong number of columns, a cell that is not a number, nan or inf without --allow-nonfinite) "
                + "gets one 'lstm4j: error: stdin line N (key K): ...' line on stderr and is skipped: its stream's state "
                + "is untouched and the stream goes on (--on-error stop ends the stream instead, exit 1).",
                "With --save-state the state is saved atomically (a temporary file renamed over FILE) at the end of input, "
                + "on SIGINT and SIGTERM, before stopping on an error, and every --checkpoint-every N answered lines."},
        footerHeading = "%nExamples:%n",
        footer = {"  sensor-feed | lstm4j stream --weights model.safetensors",
                "  lstm4j stream --weights model.safetensors --keyed < events.csv      (lines like: user-7,0.5,1.25)",
                "  lstm4j stream --weights model.safetensors --load-state s.bin --save-state s.bin < today.csv",
                "  sensor-feed | lstm4j stream --weights model.safetensors --keyed --save-state s.bin --checkpoint-every 1000"})
final class StreamCommand implements Callable<Integer> {
    /** Longest key shown in an error line. */
    private static final int KEY_SHOWN = 60;

    @Mixin
    ModelOptions model;

    @Option(names = "--keyed", description = "The first column of each line is a stream key; each key is its own sequence.")
    boolean keyed;

    @Option(names = "--load-state", paramLabel = "FILE", description = "Start from the streams' state saved by --save-state.")
    Path loadState;

    @Option(names = "--save-state", paramLabel = "FILE", description = "Save every stream's (h, c) to FILE, atomically: at the end of input, "
            + "on SIGINT or SIGTERM, before stopping on an error, and with --checkpoint-every.")
    Path saveState;

    @Option(names = "--checkpoint-every", paramLabel = "N", description = "With --save-state, also save after every N answered lines.")
    long checkpointEvery;

    @Option(names = "--on-error", paramLabel = "skip|stop", defaultValue = "skip", description = "A bad line: skip (the default) reports it "
            + "on stderr and goes on; stop reports it, saves the state (with --save-state) and exits 1.")
    String onError;

    @Option(names = "--allow-nonfinite", description = "Feed nan, inf and -inf to the model. Without it a line holding one is a bad line.")
    boolean allowNonfinite;

    @Spec
    CommandSpec spec;

    private final InputStream stdin;

    StreamCommand() {
        this(System.in);
    }

    StreamCommand(InputStream stdin) {
        this.stdin = stdin;
    }

    /** A line that cannot be a step; the message names the line, the key and what is wrong. */
    private static final class BadLine extends Exception {
        BadLine(String message) {
            super(message, null, false, false);
        }
    }

    @Override
    public Integer call() throws IOException {
        if (!onError.equals("skip") && !onError.equals("stop")) {
            throw new ParameterException(spec.commandLine(), "--on-error: '" + onError + "' is neither skip nor stop");
        }
        if (checkpointEvery < 0 || (checkpointEvery > 0 && saveState == null)) {
            throw new ParameterException(spec.commandLine(), checkpointEvery < 0 ? "--checkpoint-every: give a positive number of lines"
                    : "--checkpoint-every needs --save-state FILE");
        }
        if (saveState != null) {
            Path dir = saveState.toAbsolutePath().getParent();
            if (Files.isDirectory(saveState) || dir == null || !Files.isDirectory(dir)) {
                throw new InputException("--save-state " + saveState + ": " + (Files.isDirectory(saveState) ? "is a directory; give a file name"
                        : "no directory " + dir + " to save it in"));
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        LstmModel m = model.loadStepwise("stream");
        LstmSession session = loadState == null ? new LstmSession(m.lstm()) : LstmSession.restore(m.lstm(), read(loadState));
        StateFile state = saveState == null ? null : new StateFile(session, saveState, err);
        if (state != null) {
            state.saveOnExit();
        }
        Object lock = state == null ? new Object() : state.lock();
        boolean finished = false;
        try {
            run(m, session, state, lock, out, err);
            finished = true;
        } finally {
            if (state != null) {
                if (finished) {
                    state.close();
                } else {
                    closeQuietly(state, err);
                }
            }
        }
        return 0;
    }

    /** Saves the state while another failure is on its way out; a failure to save is reported, not thrown. */
    private static void closeQuietly(StateFile state, PrintWriter err) {
        try {
            state.close();
        } catch (RuntimeException e) {
            err.println("lstm4j: error: " + Text.oneLine(e.getMessage()));
            err.flush();
        }
    }

    private void run(LstmModel m, LstmSession session, StateFile state, Object lock, PrintWriter out, PrintWriter err) throws IOException {
        Linear head = m.head();
        boolean f32 = m.lstm().precision() == Precision.F32;
        int features = m.lstm().config().inputSize();
        Utf8Lines in = new Utf8Lines(new java.io.BufferedInputStream(stdin));
        String line;
        long lineNo = 0;
        long answered = 0;
        boolean seenData = false;
        double[] x = new double[features];
        while ((line = in.next()) != null) {
            lineNo++;
            if (line == Utf8Lines.INVALID || line == Utf8Lines.TOO_LONG) {
                // keys are compared as text: invalid bytes are refused, never replaced (s\xe9 and s\xe8 would merge)
                String what = "stdin line " + lineNo + (line == Utf8Lines.INVALID ? ": not valid UTF-8 text"
                        : ": longer than " + Utf8Lines.MAX_LINE_BYTES + " bytes");
                if (onError.equals("stop")) {
                    throw new InputException(what);
                }
                err.println("lstm4j: error: " + what + "; line skipped");
                err.flush();
                continue;
            }
            if (lineNo == 1 && line.startsWith("\uFEFF")) {
                line = line.substring(1);
            }
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] cells = line.split(",", -1);
            String key = keyed ? cells[0].strip() : "";
            boolean header = !seenData && cells.length == (keyed ? 1 : 0) + features && noNumbers(cells, keyed ? 1 : 0);
            seenData = true;
            if (header) {
                // a header: answer with one naming the output columns
                out.println(header(m, keyed));
                out.flush();
                continue;
            }
            try {
                parse(cells, lineNo, key, features, x);
            } catch (BadLine bad) {
                if (onError.equals("stop")) {
                    throw new InputException(bad.getMessage());
                }
                err.println("lstm4j: error: " + Text.oneLine(bad.getMessage()) + "; line skipped");
                err.flush();
                continue;
            }
            double[] h;
            synchronized (lock) {
                if (state != null && state.closed()) {
                    return; // the shutdown hook saved the state: the JVM is exiting
                }
                h = session.step(key, x);
            }
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
            answered++;
            if (checkpointEvery > 0 && answered % checkpointEvery == 0) {
                state.save();
            }
        }
    }

    /** True when no feature cell of the line is a number: a header. */
    private static boolean noNumbers(String[] cells, int first) {
        for (int k = first; k < cells.length; k++) {
            if (Csv.number(cells[k]) != null) {
                return false;
            }
        }
        return true;
    }

    /** The features of one line into {@code x}, or why the line is not a step. */
    private void parse(String[] cells, long lineNo, String key, int features, double[] x) throws BadLine {
        int first = keyed ? 1 : 0;
        String where = "stdin line " + lineNo + (keyed ? " (key " + shown(key) + ")" : "");
        if (cells.length != first + features) {
            throw new BadLine(where + ": expected " + (keyed ? "a key and " : "") + features + " feature"
                    + (features == 1 ? "" : "s") + " (input_size), got " + cells.length + " column" + (cells.length == 1 ? "" : "s")
                    + (keyed || cells.length != features + 1 ? "" : "; lines with a stream key first need --keyed"));
        }
        for (int k = 0; k < features; k++) {
            String cell = cells[first + k];
            Double v = Csv.number(cell);
            if (v == null) {
                throw new BadLine(where + ", column " + (first + k + 1) + ": '" + shown(cell.strip()) + "' is not a number");
            }
            if (!allowNonfinite && !Double.isFinite(v)) {
                throw new BadLine(where + ", column " + (first + k + 1) + ": " + Csv.text(v, false)
                        + " is refused; pass --allow-nonfinite to feed nan and inf to the model");
            }
            x[k] = v;
        }
    }

    private static String shown(String text) {
        return text.length() <= KEY_SHOWN ? text : text.substring(0, KEY_SHOWN) + "...";
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
            throw Causes.keep(new InputException("--load-state " + file + ": no such file"), e);
        } catch (IOException e) {
            throw new UncheckedIOException("--load-state " + file + ": " + e.getMessage(), e);
        }
    }
}
