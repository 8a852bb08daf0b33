package dev.lstm4j.internal.kernel;

/** The kernel contract for the Vector API kernels with the 6-row main tile (AVX2's default), whatever this machine's default. */
class VectorKernels6RowTest extends VectorKernelsTest {
    @Override
    LstmKernels kernels() {
        return Kernels.vector(6);
    }
}
