package dev.lstm4j.cli;

import dev.lstm4j.Lstm4jException;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.Callable;

/** The {@code lstm4j} command: subcommands demo, run, inspect, convert, trace, card, stream, train, completion. */
@Command(name = "lstm4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A readable, PyTorch-exact LSTM in pure Java.",
        subcommands = {DemoCommand.class, RunCommand.class, InspectCommand.class, ConvertCommand.class, TraceCommand.class, CardCommand.class, StreamCommand.class,
                TrainCommand.class, CommandLine.HelpCommand.class},
        footerHeading = "%nExamples:%n",
        footer = {"  lstm4j demo",
                "  lstm4j inspect --weights model.safetensors",
                "  lstm4j run --weights model.safetensors --input series.csv --out results/",
                "  lstm4j trace --weights model.safetensors --input series.csv --step 0..2",
                "  lstm4j card --demo --out card.html",
                "  lstm4j convert --weights model.pt --out model.safetensors",
                "  source <(lstm4j completion)      (tab completion in bash)"})
public final class Main implements Callable<Integer> {
    /** Exit code for a run that failed on bad input (usage errors exit 2, as picocli does). */
    public static final int EXIT_ERROR = 1;
    /** Exit code for a command line that cannot be run: no command, unknown option (as picocli does). */
    public static final int EXIT_USAGE = 2;
    /** Exit code when the reader of stdout went away (as a shell reports a command killed by SIGPIPE). */
    public static final int EXIT_PIPE_CLOSED = 141;

    @Option(names = "--debug", scope = ScopeType.INHERIT, description = "On an error, also print the full stack trace.")
    boolean debug;

    @Spec
    CommandSpec spec;

    /** {@code lstm4j} alone: the usage on stderr, exit 2. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return EXIT_USAGE;
    }

    public static void main(String[] args) {
        System.exit(execute(args, new StdoutWriter(System.out), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams; returns the exit code. Every Throwable becomes one line on {@code err}. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl;
        try {
            cl = commandLine(out, err);
        } catch (Throwable t) {
            return report(t, null, err);
        }
        try {
            return cl.execute(args);
        } catch (Throwable t) {
            // Errors (OutOfMemoryError, ExceptionInInitializerError ...) pass picocli's handler by
            return report(t, cl.getParseResult(), err);
        }
    }

    /** The command tree with lstm4j's streams, error handling, help layout and the completion subcommand. */
    static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        AutoComplete.GenerateCompletion completion = new AutoComplete.GenerateCompletion();
        cl.addSubcommand("completion", completion);
        CommandSpec c = cl.getSubcommands().get("completion").getCommandSpec();
        c.name("completion");
        c.versionProvider(new Version());
        c.usageMessage().hidden(false)
                .header("Prints the bash completion script for lstm4j.")
                .description("Prints a bash (and zsh, after autoload bashcompinit) script that completes lstm4j's commands and options.")
                .footerHeading("%nExamples:%n")
                .footer("  source <(lstm4j completion)", "  lstm4j completion > /etc/bash_completion.d/lstm4j");
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> report(ex, parseResult, commandLine.getErr()));
        cl.setParameterExceptionHandler(Main::usageError);
        HelpLayout.install(cl);
        return cl;
    }

    /** A mistyped command line: one line with picocli's message, its suggestions, and where the options are listed; exit 2. */
    static int usageError(CommandLine.ParameterException ex, String[] args) {
        CommandLine c = ex.getCommandLine();
        StringBuilder line = new StringBuilder(ex.getMessage() == null ? "invalid command line" : ex.getMessage());
        if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
            line.append("; did you mean ").append(u.getSuggestions().get(0)).append("?");
        }
        line.append(" (see ").append(c.getCommandSpec().qualifiedName()).append(" --help)");
        c.getErr().println("lstm4j: error: " + Text.oneLine(line.toString()));
        c.getErr().flush();
        return EXIT_USAGE;
    }

    /** The library's words for its options, and the flags that set them here. */
    private static final String[][] FLAGS = {
        {"LoadOptions.withCheckpointKey", "--key"}, {"LoadOptions.withPrefix", "--prefix"}, {"LoadOptions.withoutHead()", "--no-head"},
        {"LoadOptions.withHead", "--head"}, {"LoadOptions.withMaxBytes", "--max-bytes"}};

    /** A library message as the command line says it: option names become the flags that set them. */
    static String flags(String message) {
        String m = message;
        for (String[] f : FLAGS) {
            m = m.replace(f[0], f[1]);
        }
        return m;
    }

    /**
     * Prints {@code t} as one line {@code lstm4j: error: ...} (and with --debug its stack trace) and returns the exit
     * code: 1, or 141 quietly when stdout was closed by its reader.
     */
    static int report(Throwable t, ParseResult parsed, PrintWriter err) {
        if (t instanceof StdoutWriter.Closed) {
            return EXIT_PIPE_CLOSED;
        }
        boolean debug = debugRequested(parsed);
        try {
            String line;
            OutOfMemoryError oom = find(t, OutOfMemoryError.class);
            if (oom != null) {
                line = outOfMemory(oom, parsed);
            } else if (t instanceof Lstm4jException || t instanceof UncheckedIOException || t instanceof IOException) {
                line = t.getMessage() == null ? t.getClass().getName() : flags(t.getMessage());
            } else {
                Throwable shown = unwrap(t);
                String what = "internal error (lstm4j " + version() + "): " + describe(shown);
                if (debug) {
                    line = what + "; full trace follows";
                } else {
                    line = what + "; full trace written to " + traceFile(t) + " (run with --debug to print it)";
                }
            }
            err.println("lstm4j: error: " + Text.oneLine(line));
            if (debug) {
                t.printStackTrace(err);
            }
            err.flush();
        } catch (Throwable again) {
            // even describing the error failed (out of memory again?): say the least that can be said
            err.println("lstm4j: error: " + t.getClass().getName());
            err.flush();
        }
        return EXIT_ERROR;
    }

    private static boolean debugRequested(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--debug")) {
                return true;
            }
        }
        return false;
    }

    private static <T extends Throwable> T find(Throwable t, Class<T> type) {
        for (int depth = 0; t != null && depth < 20; t = t.getCause(), depth++) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    /** The throwable that says what went wrong: the cause of wrappers such as ExceptionInInitializerError. */
    private static Throwable unwrap(Throwable t) {
        Throwable shown = t;
        for (int depth = 0; depth < 20 && shown.getCause() != null && shown.getCause() != shown
                && (shown instanceof ExceptionInInitializerError || shown instanceof InvocationTargetException
                || shown instanceof CommandLine.ExecutionException || shown instanceof java.util.concurrent.ExecutionException
                || shown instanceof java.util.concurrent.CompletionException); depth++) {
            shown = shown.getCause();
        }
        return shown == t ? t : shown;
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getName() + ": " + (m == null ? "(no message)" : m);
    }

    private static String outOfMemory(OutOfMemoryError oom, ParseResult parsed) {
        long max = Runtime.getRuntime().maxMemory();
        String limit = max == Long.MAX_VALUE ? "no set limit" : "at most " + bytes(max);
        long suggestGiB = 2; // a power of two at least twice the present limit
        while (max != Long.MAX_VALUE && suggestGiB * (1L << 30) < 2 * max) {
            suggestGiB *= 2;
        }
        String command = parsed != null && parsed.subcommand() != null ? parsed.subcommand().commandSpec().name() + " " : "";
        return "out of memory (" + (oom.getMessage() == null ? "OutOfMemoryError" : oom.getMessage()) + "): the JVM may use " + limit
                + "; give it more with the environment variable LSTM4J_JAVA_OPTS, e.g. LSTM4J_JAVA_OPTS=-Xmx" + suggestGiB
                + "g bin/lstm4j " + command + "...";
    }

    static String bytes(long n) {
        if (n >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", n / (double) (1L << 30));
        }
        return String.format(Locale.ROOT, "%d MiB", n >> 20);
    }

    /** Writes the full trace to a temporary file and returns its path, or why it could not. */
    private static String traceFile(Throwable t) {
        try {
            Path f = Files.createTempFile("lstm4j-error-", ".txt");
            StringWriter s = new StringWriter();
            try (PrintWriter w = new PrintWriter(s)) {
                w.println("lstm4j " + version() + " on Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor")
                        + "), " + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
                t.printStackTrace(w);
            }
            Files.writeString(f, s.toString(), StandardCharsets.UTF_8);
            return f.toString();
        } catch (IOException | RuntimeException e) {
            return "nowhere (cannot write a temporary file: " + e.getMessage() + ")";
        }
    }

    /** The version: the jar manifest's Implementation-Version, else the one Maven wrote at build time, else "dev". */
    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        if (v != null && !v.isBlank()) {
            return v;
        }
        try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String built = p.getProperty("version");
                if (built != null && !built.isBlank() && !built.startsWith("${")) {
                    return built;
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            // fall through to "dev"
        }
        return "dev";
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"lstm4j " + version()};
        }
    }
}
