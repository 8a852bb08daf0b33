package dev.lstm4j.internal.kernel;

import org.junit.jupiter.api.BeforeAll;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel contract for the Vector API kernels. Surefire runs with {@code --add-modules jdk.incubator.vector};
 * without it this suite fails rather than skipping, so a lost flag cannot hide the vector path.
 */
class VectorKernelsTest extends KernelContractTest {
    @BeforeAll
    static void moduleIsThere() {
        assertTrue(Kernels.vectorModuleReadable(), "jdk.incubator.vector is not readable: surefire's argLine must pass "
                + "--add-modules jdk.incubator.vector");
    }

    @Override
    LstmKernels kernels() {
        return Kernels.vector();
    }
}
