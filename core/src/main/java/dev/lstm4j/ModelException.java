package dev.lstm4j;

/** The tensors given do not describe a valid LSTM: missing or extra keys, wrong shapes, mixed dtypes. */
public class ModelException extends Lstm4jException {
    public ModelException(String message) {
        super(message);
    }

    /** With the exception this one re-words, kept as its cause. */
    public ModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
