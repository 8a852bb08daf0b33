package dev.lstm4j.train;

import dev.lstm4j.internal.Validate;

/**
 * Supervised sequences for {@link Trainer}: inputs x (N, T, I) and targets, either one per sequence for the head's
 * output at the last step (y (N, O), "sequence to one", as a forecaster predicts the next H values from a window) or one
 * per step (y (N, T, O), "sequence to sequence"). Immutable (the arrays are copied in and never handed out).
 *
 * @param size     N
 * @param steps    T
 * @param features I
 * @param targets  O
 */
public record Dataset(double[] x, double[] y, int size, int steps, int features, int targets, boolean everyStep) {
    public Dataset {
        Validate.input(size > 0 && steps > 0 && features > 0 && targets > 0, "dataset: N, T, I and O must be positive, got N=" + size
                + " T=" + steps + " I=" + features + " O=" + targets);
        Validate.input(x.length == (long) size * steps * features, "dataset: x has " + x.length + " values, expected N*T*I = "
                + size + "*" + steps + "*" + features);
        long ys = everyStep ? (long) size * steps * targets : (long) size * targets;
        Validate.input(y.length == ys, "dataset: y has " + y.length + " values, expected " + (everyStep ? "N*T*O = " : "N*O = ") + ys);
        x = x.clone();
        y = y.clone();
    }

    /** Sequence to one: x (N, T, I), y (N, O) for the last step. */
    public static Dataset lastStep(double[] x, double[] y, int size, int steps, int features, int targets) {
        return new Dataset(x, y, size, steps, features, targets, false);
    }

    /** Sequence to sequence: x (N, T, I), y (N, T, O). */
    public static Dataset everyStep(double[] x, double[] y, int size, int steps, int features, int targets) {
        return new Dataset(x, y, size, steps, features, targets, true);
    }

    /** Sequences {@code from} (inclusive) to {@code to} (exclusive), e.g. to split off a validation set. */
    public Dataset slice(int from, int to) {
        Validate.input(0 <= from && from < to && to <= size, "dataset slice " + from + ".." + to + " is outside 0.." + size);
        int xs = steps * features, ys = everyStep ? steps * targets : targets;
        double[] sx = java.util.Arrays.copyOfRange(x, from * xs, to * xs);
        double[] sy = java.util.Arrays.copyOfRange(y, from * ys, to * ys);
        return new Dataset(sx, sy, to - from, steps, features, targets, everyStep);
    }

    /** Targets per sequence: T·O or O. */
    int targetsPerSequence() {
        return everyStep ? steps * targets : targets;
    }
}
