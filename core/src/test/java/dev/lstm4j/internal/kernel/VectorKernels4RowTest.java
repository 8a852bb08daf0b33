package dev.lstm4j.internal.kernel;

/** The kernel contract for the Vector API kernels with the 4-row main tile (a variant for measuring), whatever this machine's default. */
class VectorKernels4RowTest extends VectorKernelsTest {
    @Override
    LstmKernels kernels() {
        return Kernels.vector(4);
    }
}
