package dev.lstm4j.cli;

import dev.lstm4j.Tensor;
import dev.lstm4j.Tolerance;
import dev.lstm4j.internal.io.Npy;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code lstm4j stream} as a separate process on a pipe: each output line must arrive before the next input
 * line is written, which only happens if the command writes and flushes every step as soon as it is computed.
 */
class StreamPipeIT {
    @Test
    void eachStepIsAnsweredBeforeTheNextIsSent() throws Exception {
        Path jar = Path.of("target", "lstm4j.jar");
        assertTrue(Files.isRegularFile(jar), jar.toAbsolutePath() + " missing; StreamPipeIT runs after mvn package");
        try (DemoFiles demo = new DemoFiles()) {
            Tensor head = Npy.read(demo.resolve("head.npy")); // PyTorch's output for [1,1], [2,2], [3,3]
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            // as bin/lstm4j runs it; stderr (the JVM's incubator notice) is not part of the answer
            Process p = new ProcessBuilder(java.toString(), "--add-modules", "jdk.incubator.vector", "-jar", jar.toString(), "stream",
                    "--weights", demo.resolve("model.safetensors").toString(), "--keyed").redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try {
                talk(p, head);
            } finally {
                p.destroyForcibly();
            }
        }
    }

    private static void talk(Process p, Tensor head) throws Exception {
        try (Writer in = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
             BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String[][] feed = {{"left", "1"}, {"right", "1"}, {"left", "2"}, {"left", "3"}, {"right", "2"}, {"right", "3"}};
            for (String[] f : feed) {
                in.write(f[0] + "," + f[1] + "," + f[1] + "\n");
                in.flush();
                // the pipe stays open: a line arrives only if the command flushed it
                CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
                    try {
                        return out.readLine();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                String got = line.get(60, TimeUnit.SECONDS);
                String[] cells = got.split(",");
                assertEquals(2, cells.length, "output line: " + got);
                assertEquals(f[0], cells[0]);
                double expected = head.get(0, Integer.parseInt(f[1]) - 1, 0);
                double value = Double.parseDouble(cells[1]);
                assertTrue(Tolerance.F32.accepts(expected, value), f[0] + " step " + f[1] + ": PyTorch " + expected + ", stream " + value);
            }
            in.close();
            assertEquals(null, out.readLine(), "nothing after the last step");
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "stream did not exit at end of input");
        assertEquals(0, p.exitValue());
    }

    @Test
    void aBadLineEndsTheStreamWithOneErrorLine() throws Exception {
        Path jar = Path.of("target", "lstm4j.jar");
        try (DemoFiles demo = new DemoFiles()) {
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            Process p = new ProcessBuilder(java.toString(), "--add-modules", "jdk.incubator.vector", "-jar", jar.toString(), "stream",
                    "--weights", demo.resolve("model.safetensors").toString(), "--on-error", "stop").start();
            try {
                badLine(p);
            } finally {
                p.destroyForcibly();
            }
        }
    }

    private static void badLine(Process p) throws Exception {
        p.getOutputStream().write("1,1\n1,oops\n2,2\n".getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        List<String> out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        // the JVM's own notice for --add-modules jdk.incubator.vector is not ours (bin/lstm4j filters it)
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).lines()
                .filter(l -> !l.equals("WARNING: Using incubator modules: jdk.incubator.vector")).collect(java.util.stream.Collectors.joining("\n"));
        assertEquals(1, p.exitValue());
        assertEquals(1, out.size(), "the step before the bad line was answered: " + out);
        assertEquals("lstm4j: error: stdin line 2, column 2: 'oops' is not a number", err);
    }
}
