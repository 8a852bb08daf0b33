package dev.lstm4j.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void percentAndEtaAtTheSpeedSoFar() {
        // a quarter done in 10 s: three quarters left take 30 s
        assertEquals("  25000 / 100000 steps (25%), ETA 30 s", Progress.line(25_000, 100_000, 10 * SECOND).stripTrailing());
        assertEquals("  1 / 1000 steps (0%), ETA 16 min 39 s", Progress.line(1, 1000, SECOND).stripTrailing());
        assertEquals("  500 / 1000 steps (50%), ETA 1 h 01 min", Progress.line(500, 1000, 3661 * SECOND).stripTrailing());
        // no ETA in the first second, nor at the end
        assertFalse(Progress.line(10, 1000, SECOND / 2).contains("ETA"));
        assertEquals("  1000 / 1000 steps (100%)", Progress.line(1000, 1000, 5 * SECOND).stripTrailing());
        assertTrue(Progress.line(1, 2, 0).length() >= 48, "padded to overwrite a longer line");
    }

    @Test
    void terminalCanBeForced() {
        String before = System.getProperty("lstm4j.stderr.tty");
        try {
            System.setProperty("lstm4j.stderr.tty", "true");
            assertTrue(Progress.stderrIsTerminal());
            System.setProperty("lstm4j.stderr.tty", "false");
            assertFalse(Progress.stderrIsTerminal());
            System.clearProperty("lstm4j.stderr.tty");
            // under Maven, stderr is a pipe or a file
            assertFalse(Progress.stderrIsTerminal());
        } finally {
            if (before == null) {
                System.clearProperty("lstm4j.stderr.tty");
            } else {
                System.setProperty("lstm4j.stderr.tty", before);
            }
        }
    }
}
