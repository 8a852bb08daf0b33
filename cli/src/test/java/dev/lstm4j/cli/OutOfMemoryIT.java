package dev.lstm4j.cli;

import dev.lstm4j.DType;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A real OutOfMemoryError in a JVM with a small heap: one line that says how to give it more. */
class OutOfMemoryIT {
    @TempDir
    Path tmp;

    @Test
    void runOutOfMemoryIsOneLineNamingLstm4jJavaOpts() throws Exception {
        Path x = tmp.resolve("big.npy");
        Npy.write(x, Tensor.zeros(DType.F32, 1, 2_000_000, 2)); // 16 MB of input for a 12 MB heap
        try (DemoFiles demo = new DemoFiles()) {
            ProcessBuilder b = Child.builder("run", "--weights", demo.resolve("model.safetensors").toString(), "--input", x.toString(),
                    "--out", tmp.resolve("out").toString());
            b.command().add(1, "-Xmx12m");
            Path err = tmp.resolve("err.txt");
            Process p = b.redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "run did not end");
            String stderr = Child.errors(Files.readString(err));
            assertEquals(1, p.exitValue(), stderr);
            assertEquals(1, stderr.lines().count(), stderr);
            assertTrue(stderr.matches("lstm4j: error: out of memory \\(Java heap space\\): the JVM may use at most \\d+ MiB; give it more with the "
                    + "environment variable LSTM4J_JAVA_OPTS, e\\.g\\. LSTM4J_JAVA_OPTS=-Xmx2g bin/lstm4j run \\.\\.\\."), stderr);
        }
    }
}
