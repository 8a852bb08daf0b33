package dev.lstm4j.internal.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The structure-aware fuzzer for a time budget ({@code -Dlstm4j.fuzz.seconds}, 30 s by default in mvn verify; .ci/run runs it for 300 s) from a
 * fresh seed ({@code -Dlstm4j.fuzz.seed}); both are printed. Run by failsafe in {@code mvn verify}, or alone:
 * {@code mvn -pl core verify -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=StructuredFuzzIT -Dlstm4j.fuzz.seconds=600}.
 */
class StructuredFuzzIT {
    @TempDir
    Path tmp;

    @Test
    void runsForItsTimeBudget() throws IOException {
        long seed = Long.getLong("lstm4j.fuzz.seed", System.nanoTime());
        StructuredFuzzTest.run(tmp, seed, Integer.getInteger("lstm4j.fuzz.cases", Integer.MAX_VALUE),
                Duration.ofSeconds(Long.getLong("lstm4j.fuzz.seconds", 30)));
    }
}
