package dev.lstm4j;

import java.nio.file.Path;

/** A file could not be read as the format it should be: truncated, corrupt, forged lengths, unknown dtype. */
public class FileFormatException extends Lstm4jException {
    private final transient Path file;

    public FileFormatException(Path file, String message) {
        super(file + ": " + message);
        this.file = file;
    }

    public FileFormatException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
    }

    /** The file that failed, as given by the caller. */
    public Path file() {
        return file;
    }
}
