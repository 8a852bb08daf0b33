package dev.lstm4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code lstm4j trace ... | head}: when the reader closes the pipe, the command stops at once, quietly. */
class PipeClosedIT {
    @TempDir
    Path tmp;

    @Test
    void traceStopsQuietlyWhenTheReaderGoes() throws Exception {
        // 3,000 steps of the demo model: several megabytes of report, far more than a pipe holds
        StringBuilder csv = new StringBuilder("a,b\n");
        for (int t = 0; t < 3000; t++) {
            csv.append(t % 7).append(',').append(t % 5).append('\n');
        }
        Path input = tmp.resolve("series.csv");
        Files.writeString(input, csv);
        Path errFile = tmp.resolve("err.txt");
        try (DemoFiles demo = new DemoFiles()) {
            Process p = Child.builder("trace", "--weights", demo.resolve("model.safetensors").toString(), "--input", input.toString())
                    .redirectError(errFile.toFile()).start();
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                for (int k = 0; k < 10; k++) {
                    assertNotNull(out.readLine(), "trace ended early");
                }
                out.close(); // as head does after its lines
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), "trace kept running after its reader left");
            } finally {
                p.destroyForcibly();
            }
            assertEquals(Main.EXIT_PIPE_CLOSED, p.exitValue());
            assertEquals("", Child.errors(Files.readString(errFile)), "nothing on stderr");
        }
    }
}
