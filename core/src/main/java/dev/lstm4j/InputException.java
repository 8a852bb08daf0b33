package dev.lstm4j;

/** Data or initial state fed to a model does not fit it: wrong feature count, wrong h0 shape, empty sequence. */
public class InputException extends Lstm4jException {
    public InputException(String message) {
        super(message);
    }

    /** With the exception this one re-words, kept as its cause. */
    public InputException(String message, Throwable cause) {
        super(message, cause);
    }
}
