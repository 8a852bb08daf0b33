package dev.lstm4j.internal.kernel;

import dev.lstm4j.CellWeights;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.Tensor;

import java.util.List;

/** Run by {@link KernelsTest} in a JVM started with a bad {@code -Dlstm4j.kernels}: builds two models and runs them. */
final class BadPropertyMain {
    public static void main(String[] args) {
        LstmConfig config = LstmConfig.of(2, 3);
        float[] w = new float[12 * 3];
        CellWeights cell = new CellWeights(Tensor.of(new int[] {12, 2}, new float[24]), Tensor.of(new int[] {12, 3}, w), null, null, null);
        LstmConfig noBias = new LstmConfig(2, 3, 1, false, 0, false);
        for (int i = 0; i < 2; i++) {
            Lstm lstm = new Lstm(noBias, List.of(cell));
            lstm.forward(Tensor.of(new int[] {1, 4, 2}, new float[8]));
            if (!lstm.usesFastPath()) {
                throw new AssertionError("expected the fast path");
            }
        }
        System.out.println("ran on the fast path " + config.inputSize());
    }
}
