package dev.lstm4j.internal.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The mutation fuzzer from a fresh seed (printed; replay with {@code -Dlstm4j.fuzz.seed=S}) and 5,000
 * cases per file ({@code -Dlstm4j.fuzz.cases=N}; 1,000 in mvn verify, 5,000 in .ci/run). Slow: run by failsafe in {@code mvn verify}.
 */
class HostileFilesFuzzIT {
    @TempDir
    Path tmp;

    @Test
    void manyMoreMutants() throws IOException {
        long seed = Long.getLong("lstm4j.fuzz.seed", System.nanoTime());
        HostileFilesFuzzTest.run(tmp, seed, Integer.getInteger("lstm4j.fuzz.cases", 1000));
    }
}
