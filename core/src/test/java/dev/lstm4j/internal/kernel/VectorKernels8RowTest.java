package dev.lstm4j.internal.kernel;

/** The kernel contract for the Vector API kernels with the 8-row main tile (AVX-512's default), whatever this machine's default. */
class VectorKernels8RowTest extends VectorKernelsTest {
    @Override
    LstmKernels kernels() {
        return Kernels.vector(8);
    }
}
