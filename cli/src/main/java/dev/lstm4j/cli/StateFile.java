package dev.lstm4j.cli;

import dev.lstm4j.LstmSession;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Where {@code lstm4j stream --save-state} keeps a session: written atomically (a temporary file in the same
 * directory, fsync, rename over the old file, fsync of the directory), so that a reader, or a run killed at any
 * moment, finds the previous complete state or the new one, never a mix. A JVM shutdown hook saves on SIGINT and
 * SIGTERM. Every save, and every change to the session by the command, happens while holding the session's
 * monitor, so the hook never saves a half-taken step.
 */
final class StateFile {
    private final LstmSession session;
    private final Path file;
    private final PrintWriter err;
    private boolean closed; // guarded by session
    private Thread hook;

    StateFile(LstmSession session, Path file, PrintWriter err) {
        this.session = session;
        this.file = file;
        this.err = err;
    }

    /** The monitor to hold while changing the session. */
    Object lock() {
        return session;
    }

    /** True once the state was saved for the last time (at the end, or by the shutdown hook): take no more steps. Hold {@link #lock()}. */
    boolean closed() {
        return closed;
    }

    /** Saves on SIGINT and SIGTERM (and any other JVM exit) until {@link #close()}. */
    void saveOnExit() {
        hook = new Thread(() -> {
            synchronized (session) {
                if (closed) {
                    return;
                }
                closed = true;
                try {
                    write(file, session.save());
                } catch (RuntimeException | Error e) {
                    err.println("lstm4j: error: --save-state " + Text.oneLine(file + ": not saved on exit: " + e.getMessage()));
                    err.flush();
                }
            }
        }, "lstm4j-save-state");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** A checkpoint: saves now (unless the shutdown hook has already saved for the last time). */
    void save() {
        synchronized (session) {
            if (!closed) {
                write(file, session.save());
            }
        }
    }

    /** The last save, at the end of input or before stopping on an error; the shutdown hook is removed. */
    void close() {
        try {
            synchronized (session) {
                if (!closed) {
                    closed = true;
                    write(file, session.save());
                }
            }
        } finally {
            if (hook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the JVM is exiting; the hook finds the state saved and returns
                }
            }
        }
    }

    /** Writes {@code bytes} to {@code file} atomically: temporary file in the same directory, fsync, rename, fsync of the directory. */
    static void write(Path file, byte[] bytes) {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = null;
        try {
            tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system cannot rename atomically; choose a --save-state on a local disk", e);
            }
            tmp = null;
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true); // the rename itself survives a power cut
            } catch (IOException | UnsupportedOperationException e) {
                // not every platform can fsync a directory; the rename is still atomic
            }
        } catch (IOException e) {
            throw new UncheckedIOException("--save-state " + file + ": cannot write: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException e) {
                    // leave it; it is named .FILE.*.tmp
                }
            }
        }
    }
}
