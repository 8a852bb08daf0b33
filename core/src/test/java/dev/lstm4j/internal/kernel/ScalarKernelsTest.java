package dev.lstm4j.internal.kernel;

/** The kernel contract for the plain-Java kernels. */
class ScalarKernelsTest extends KernelContractTest {
    @Override
    LstmKernels kernels() {
        return Kernels.scalar();
    }
}
