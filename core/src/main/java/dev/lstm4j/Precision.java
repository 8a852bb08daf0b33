package dev.lstm4j;

/**
 * The arithmetic a model runs in. PyTorch runs a float32 model in float32 and a float64 model in float64;
 * so do we. The reference path computes each equation in double and rounds its result with
 * {@link #round(double)}, so every intermediate a float32 model produces is a float32 value, as in PyTorch.
 */
public enum Precision {
    F32 {
        @Override
        public double round(double x) {
            return (float) x;
        }
    },
    F64 {
        @Override
        public double round(double x) {
            return x;
        }
    };

    /** Rounds a value to this precision (identity for F64). */
    public abstract double round(double x);

    /** The dtype results are written in. */
    public DType dtype() {
        return this == F32 ? DType.F32 : DType.F64;
    }
}
