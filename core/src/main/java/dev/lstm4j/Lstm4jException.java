package dev.lstm4j;

/**
 * Base of every exception lstm4j throws on bad input. Unchecked, so callers catch it where they can act.
 *
 * <p>Subclasses say which side was wrong: {@link FileFormatException} (a file is not what it claims),
 * {@link ModelException} (the tensors do not make a valid LSTM), {@link InputException} (the data or
 * initial state fed to a model does not fit it). Messages name the thing, what was found, what was
 * expected and how to fix it.
 */
public class Lstm4jException extends RuntimeException {
    public Lstm4jException(String message) {
        super(message);
    }

    public Lstm4jException(String message, Throwable cause) {
        super(message, cause);
    }
}
