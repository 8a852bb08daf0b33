package dev.lstm4j.cli;

import dev.lstm4j.InputException;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command itself: no arguments, version, completion, help layout, and how every kind of failure is reported. */
class MainTest {
    private record Reported(int code, String err) {
    }

    private static Reported report(Throwable t, String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true));
        int code = Main.report(t, args.length == 0 ? null : cl.parseArgs(args), new PrintWriter(err, true));
        return new Reported(code, err.toString());
    }

    private static String oneLine(String err) {
        List<String> lines = err.lines().toList();
        assertEquals(1, lines.size(), "expected exactly one line on stderr:\n" + err);
        assertTrue(lines.get(0).startsWith("lstm4j: error: "), lines.get(0));
        return lines.get(0);
    }

    @Test
    void noArgumentsPrintsUsageOnStderrAndExits2() {
        Cli r = Cli.run();
        assertEquals(2, r.code(), r.toString());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("Usage: lstm4j"), r.err());
        assertTrue(r.err().contains("stream") && r.err().contains("completion"), r.err());
    }

    @Test
    void versionIsTheBuiltVersion() {
        Cli r = Cli.run("--version");
        assertEquals(0, r.code(), r.toString());
        // in the tests there is no jar manifest: the version comes from the version.properties Maven filtered
        assertTrue(r.out().strip().matches("lstm4j \\d+\\.\\d+\\.\\d+.*"), r.out());
        assertFalse(r.out().contains("dev") || r.out().contains("${"), r.out());
    }

    @Test
    void completionPrintsTheBashScript() {
        Cli r = Cli.run("completion");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().startsWith("#!/usr/bin/env bash"), r.out().lines().findFirst().orElse(""));
        assertTrue(r.out().contains("complete -F") && r.out().contains("lstm4j"), "no complete -F line");
        for (String cmd : new String[] {"demo", "run", "inspect", "convert", "trace", "card", "stream"}) {
            assertTrue(r.out().contains(cmd), "completion lacks " + cmd);
        }
        assertTrue(r.out().contains("--checkpoint-every"), "completion lacks stream's options");
    }

    @Test
    void anInternalErrorIsOneLineWithTheTraceInAFile() throws Exception {
        Reported r = report(new IllegalStateException("kernel index 7 out of range"));
        assertEquals(1, r.code());
        String line = oneLine(r.err());
        Matcher m = Pattern.compile("lstm4j: error: internal error \\(lstm4j [^)]+\\): java\\.lang\\.IllegalStateException: kernel index 7 out of range;"
                + " full trace written to (\\S+) \\(run with --debug to print it\\)").matcher(line);
        assertTrue(m.matches(), line);
        Path trace = Path.of(m.group(1));
        try {
            String text = Files.readString(trace);
            assertTrue(text.contains("java.lang.IllegalStateException: kernel index 7 out of range") && text.contains("\tat dev.lstm4j.cli.MainTest"), text);
        } finally {
            Files.deleteIfExists(trace);
        }
    }

    @Test
    void debugPrintsTheTrace() {
        for (String[] args : new String[][] {{"--debug", "demo"}, {"demo", "--debug"}}) {
            Reported r = report(new IllegalStateException("boom"), args);
            List<String> lines = r.err().lines().toList();
            assertEquals("lstm4j: error: internal error (lstm4j " + Main.version() + "): java.lang.IllegalStateException: boom; full trace follows",
                    lines.get(0), Arrays.toString(args));
            assertTrue(lines.size() > 3 && lines.get(1).equals("java.lang.IllegalStateException: boom"), r.err());
        }
    }

    @Test
    void wrappersShowTheirCause() {
        Reported r = report(new ExceptionInInitializerError(new ArithmeticException("/ by zero")));
        String line = oneLine(r.err());
        assertTrue(line.contains("internal error (lstm4j ") && line.contains("java.lang.ArithmeticException: / by zero; full trace written to "), line);
        deleteTrace(line);
        r = report(new StackOverflowError());
        line = oneLine(r.err());
        assertTrue(line.contains("java.lang.StackOverflowError: (no message)"), line);
        deleteTrace(line);
    }

    private static void deleteTrace(String line) {
        Matcher m = Pattern.compile("full trace written to (\\S+) ").matcher(line);
        assertTrue(m.find(), line);
        try {
            Files.deleteIfExists(Path.of(m.group(1)));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void outOfMemoryNamesTheLimitAndTheFix() {
        Reported r = report(new OutOfMemoryError("Java heap space"), "run", "--weights", "w", "--input", "x", "--out", "o");
        String line = oneLine(r.err());
        assertTrue(line.startsWith("lstm4j: error: out of memory (Java heap space): the JVM may use at most "
                + Main.bytes(Runtime.getRuntime().maxMemory()) + "; give it more with the environment variable LSTM4J_JAVA_OPTS, e.g. LSTM4J_JAVA_OPTS=-Xmx"), line);
        assertTrue(line.endsWith("g bin/lstm4j run ..."), line);
        // inside a wrapper too (a worker thread's failure reaches the caller as a cause)
        line = oneLine(report(new RuntimeException(new java.util.concurrent.ExecutionException(new OutOfMemoryError("Java heap space")))).err());
        assertTrue(line.contains("out of memory") && line.contains("LSTM4J_JAVA_OPTS"), line);
    }

    @Test
    void messagesFromFilesCannotDrawOnTheTerminal() {
        Reported r = report(new InputException("model.safetensors: tensor 'a\u001b[2J\nlstm4j: error: fake\r\u009b\u202e' is odd"));
        assertEquals(1, r.code());
        String line = oneLine(r.err());
        assertEquals("lstm4j: error: model.safetensors: tensor 'a\\x1b[2J\\nlstm4j: error: fake\\r\\x9b\\u202e' is odd", line);
        assertEquals("plain", Text.oneLine("plain"));
        assertEquals("tab\\there", Text.oneLine("tab\there"));
    }

    @Test
    void aUserErrorThroughTheWholeCommandIsOneLine() {
        Cli r = Cli.run("inspect", "--weights", "no/such/file\u001b[31m.safetensors");
        assertEquals(1, r.code(), r.toString());
        String line = oneLine(r.err());
        assertTrue(line.contains("\\x1b[31m") && !line.contains("\u001b"), line);
    }

    /** Every help page, wrapped at 80 columns, holds the same words as unwrapped: no word is broken (picocli breaks h_n.npy after the dot). */
    @Test
    void helpWrapsOnlyAtSpaces() {
        CommandLine wide = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        HelpLayout.install(wide, 10_000);
        CommandLine narrow = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        HelpLayout.install(narrow, 80);
        List<String> names = new ArrayList<>(narrow.getSubcommands().keySet());
        names.add(null);
        for (String name : names) {
            CommandLine n = name == null ? narrow : narrow.getSubcommands().get(name);
            CommandLine w = name == null ? wide : wide.getSubcommands().get(name);
            assertNotNull(w, name);
            String text = n.getUsageMessage(CommandLine.Help.Ansi.OFF);
            String flat = w.getUsageMessage(CommandLine.Help.Ansi.OFF);
            for (String line : text.split("\\R")) {
                assertTrue(line.length() <= 80 || !line.strip().contains(" "), name + ": line longer than 80: " + line);
            }
            assertEquals(Arrays.asList(flat.strip().split("\\s+")), Arrays.asList(text.strip().split("\\s+")), name + " help:\n" + text);
        }
    }

    /** Tensor names are text from the file: inspect and run show them escaped. */
    @Test
    void tensorNamesWithEscapesAreShownEscaped(@org.junit.jupiter.api.io.TempDir Path tmp) {
        Path fixture = Path.of("..", "core", "src", "test", "resources", "fixtures", "basic_f32");
        java.util.Map<String, dev.lstm4j.Tensor> renamed = new java.util.LinkedHashMap<>();
        dev.lstm4j.internal.io.Safetensors.read(fixture.resolve("model.safetensors")).tensors()
                .forEach((k, v) -> renamed.put("\u001b[2J\u001b[31m" + k, v));
        Path w = tmp.resolve("evil.safetensors");
        dev.lstm4j.internal.io.Safetensors.write(w, renamed, java.util.Map.of());
        Cli r = Cli.run("inspect", "--weights", w.toString());
        assertEquals(0, r.code(), r.toString());
        assertFalse(r.out().contains("\u001b"), r.out());
        assertTrue(r.out().contains("\\x1b[2J\\x1b[31mlstm.weight_ih_l0") && r.out().contains("at prefix '\\x1b[2J\\x1b[31mlstm.'"), r.out());
        r = Cli.run("run", "--weights", w.toString(), "--input", fixture.resolve("input.npy").toString(), "--out", tmp.resolve("out").toString());
        assertEquals(0, r.code(), r.toString());
        assertFalse(r.out().contains("\u001b"), r.out());
    }
}
