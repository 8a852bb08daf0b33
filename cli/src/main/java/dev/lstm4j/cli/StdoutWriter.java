package dev.lstm4j.cli;

import java.io.PrintStream;
import java.io.PrintWriter;

/**
 * stdout for the CLI: a PrintWriter that notices when the reader has gone ({@code lstm4j trace ... | head}).
 * {@link System#out} swallows the broken pipe and would let a command write its whole output into nothing;
 * this writer checks after every line and throws {@link Closed}, which {@link Main} turns into a quiet exit 141
 * (as a command killed by SIGPIPE exits in a shell).
 */
final class StdoutWriter extends PrintWriter {
    /** The reader of stdout has closed it; nothing is printed for this. */
    static final class Closed extends RuntimeException {
        Closed() {
            super("stdout closed by the reader", null, false, false);
        }
    }

    private final PrintStream stream;

    StdoutWriter(PrintStream stream) {
        super(stream, true);
        this.stream = stream;
    }

    @Override
    public void println() {
        super.println();
        if (stream.checkError()) {
            throw new Closed();
        }
    }

    @Override
    public PrintWriter format(String format, Object... args) {
        super.format(format, args);
        flush();
        return this;
    }

    @Override
    public PrintWriter format(java.util.Locale l, String format, Object... args) {
        super.format(l, format, args);
        flush();
        return this;
    }

    @Override
    public void flush() {
        super.flush();
        if (stream.checkError()) {
            throw new Closed();
        }
    }
}
