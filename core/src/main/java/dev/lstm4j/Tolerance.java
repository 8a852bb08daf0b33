package dev.lstm4j;

import java.util.Arrays;
import java.util.Locale;

/**
 * What "PyTorch-exact" means here, element-wise: {@code |actual - expected| ≤ rel · max(1, |expected|)},
 * with rel = 1e-5 for float32 and 1e-10 for float64. NaN must meet NaN, and infinities must be equal.
 */
public record Tolerance(double rel) {
    /** float32 results against PyTorch float32. */
    public static final Tolerance F32 = new Tolerance(1e-5);
    /** float64 results against PyTorch float64. */
    public static final Tolerance F64 = new Tolerance(1e-10);

    /** The tolerance for a precision. */
    public static Tolerance of(Precision p) {
        return p == Precision.F64 ? F64 : F32;
    }

    /**
     * The result of comparing two tensors.
     *
     * @param maxAbsDiff largest |actual - expected| over finite pairs
     * @param firstBad   flat index of the first element out of tolerance, or -1
     */
    public record Report(String label, boolean shapesMatch, double maxAbsDiff, int firstBad, double expectedAt, double actualAt,
                         String detail) {
        public boolean ok() {
            return shapesMatch && firstBad < 0;
        }

        @Override
        public String toString() {
            if (!shapesMatch) {
                return label + ": " + detail;
            }
            return String.format(Locale.ROOT, "%s: max |Δ| = %.3g%s", label, maxAbsDiff,
                    firstBad < 0 ? "" : String.format(Locale.ROOT, ", first failure at flat index %d: expected %s, got %s",
                            firstBad, expectedAt, actualAt));
        }
    }

    /** Whether one pair of values agrees. */
    public boolean accepts(double expected, double actual) {
        if (Double.isNaN(expected) || Double.isNaN(actual)) {
            return Double.isNaN(expected) && Double.isNaN(actual);
        }
        if (Double.isInfinite(expected) || Double.isInfinite(actual)) {
            return expected == actual;
        }
        return Math.abs(actual - expected) <= rel * Math.max(1.0, Math.abs(expected));
    }

    /** Compares shapes and every element, like llm.c's check_tensor. */
    public Report check(String label, Tensor expected, Tensor actual) {
        if (!Arrays.equals(expected.shape(), actual.shape())) {
            return new Report(label, false, Double.NaN, -1, 0, 0, "shape " + Tensor.shapeString(actual.shape()) + ", expected "
                    + Tensor.shapeString(expected.shape()));
        }
        double max = 0;
        int firstBad = -1;
        for (int i = 0; i < expected.elementCount(); i++) {
            double e = expected.at(i), a = actual.at(i);
            if (Double.isFinite(e) && Double.isFinite(a)) {
                max = Math.max(max, Math.abs(a - e));
            }
            if (firstBad < 0 && !accepts(e, a)) {
                firstBad = i;
            }
        }
        return new Report(label, true, max, firstBad, firstBad < 0 ? 0 : expected.at(firstBad), firstBad < 0 ? 0 : actual.at(firstBad), "");
    }
}
