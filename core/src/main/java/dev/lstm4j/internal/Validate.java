package dev.lstm4j.internal;

import dev.lstm4j.InputException;
import dev.lstm4j.ModelException;
import dev.lstm4j.Tensor;
import java.util.Arrays;

/** One place for argument checks, so every message has the same form: what, found, expected, fix. */
public final class Validate {
    private Validate() {
    }

    /** Throws {@link InputException} with the message when the condition is false. */
    public static void input(boolean ok, String message) {
        if (!ok) {
            throw new InputException(message);
        }
    }

    /** Throws {@link ModelException} with the message when the condition is false. */
    public static void model(boolean ok, String message) {
        if (!ok) {
            throw new ModelException(message);
        }
    }

    /** Requires {@code tensor} to have exactly {@code expected} as its shape; the message names both. */
    public static void shape(String name, Tensor tensor, String expectedMeaning, int... expected) {
        if (!Arrays.equals(tensor.shape(), expected)) {
            throw new ModelException(name + ": expected shape " + expectedMeaning + " = " + Tensor.shapeString(expected)
                    + ", file has " + Tensor.shapeString(tensor.shape()));
        }
    }
}
