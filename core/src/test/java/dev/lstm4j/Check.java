package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Asserts a tensor matches, reporting the largest difference and the first failing index. */
public final class Check {
    private Check() {
    }

    public static void close(String label, Tensor expected, Tensor actual, Tolerance tol) {
        Tolerance.Report r = tol.check(label, expected, actual);
        assertTrue(r.ok(), r::toString);
    }
}
