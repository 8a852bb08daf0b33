package dev.lstm4j.cli;

import dev.lstm4j.Lstm4jException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.io.UncheckedIOException;

/** The {@code lstm4j} command: subcommands demo, run, inspect, convert, trace, card, stream. */
@Command(name = "lstm4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A readable, PyTorch-exact LSTM in pure Java.",
        subcommands = {DemoCommand.class, RunCommand.class, InspectCommand.class, ConvertCommand.class, TraceCommand.class, CardCommand.class, StreamCommand.class,
                CommandLine.HelpCommand.class},
        footerHeading = "%nExamples:%n",
        footer = {"  lstm4j demo",
                "  lstm4j inspect --weights model.safetensors",
                "  lstm4j run --weights model.safetensors --input series.csv --out results/",
                "  lstm4j trace --weights model.safetensors --input series.csv --step 0..2",
                "  lstm4j card --demo --out card.html",
                "  lstm4j convert --weights model.pt --out model.safetensors"})
public final class Main implements Runnable {
    /** Exit code for a run that failed on bad input (usage errors exit 2, as picocli does). */
    public static final int EXIT_ERROR = 1;

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams; returns the exit code. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof Lstm4jException || ex instanceof UncheckedIOException) {
                commandLine.getErr().println("lstm4j: error: " + ex.getMessage());
                return EXIT_ERROR;
            }
            throw ex;
        });
        return cl.execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"lstm4j " + (v == null ? "dev" : v)};
        }
    }
}
