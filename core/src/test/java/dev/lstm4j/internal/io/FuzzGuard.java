package dev.lstm4j.internal.io;

import dev.lstm4j.Lstm4jException;
import dev.lstm4j.StateDict;
import dev.lstm4j.internal.Names;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs one fuzz case under limits and says what was wrong with it, if anything: the reader and then, on
 * what the reader accepts, {@link ModelLoader}, on a worker thread with a deadline and a byte budget; the
 * thread's allocation is measured. A case fails when it throws anything but an {@link Lstm4jException},
 * overruns its time, allocates more than {@link #allocationLimit}, or prints a message with a control
 * character or of unbounded length.
 */
final class FuzzGuard implements AutoCloseable {
    /** The maxBytes every fuzz case reads with. */
    static final long MAX_BYTES = 8L << 20;
    /** Longest message accepted: names are cut at 120 characters, lists at a few names. */
    static final int MAX_MESSAGE = 4000;

    /** A reader under test; returns a StateDict when it has one for ModelLoader. */
    interface Reader {
        Object read(Path file);
    }

    private final Duration limit;
    private ExecutorService worker = newWorker();
    /** Outcomes by kind: "model", "read" (accepted, no model), or the exception's class. */
    final Map<String, Integer> outcomes = new TreeMap<>();
    long slowestNanos;
    long lastNanos;
    /** How the last case ended: "model", "read", or the exception's class (with "read, then " when ModelLoader threw). */
    volatile String lastOutcome = "";
    /** The last case's message, escaped, or "" when it was read. */
    volatile String lastMessage = "";

    FuzzGuard(Duration limit) {
        this.limit = limit;
    }

    /** Per-case time limit: {@code -Dlstm4j.fuzz.caseSeconds}, 30 s by default: the hangs found took 63 s and more, and the test machine may be shared. */
    static Duration caseLimit() {
        return Duration.ofSeconds(Long.getLong("lstm4j.fuzz.caseSeconds", 30));
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-case");
            t.setDaemon(true);
            return t;
        });
    }

    /** Bytes a case may allocate: a generous multiple of the budget and the file, far below a runaway allocation. */
    static long allocationLimit(long fileSize) {
        return 32 * MAX_BYTES + 64 * fileSize + (64L << 20);
    }

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /** Runs the case; null when it behaved, else what went wrong. */
    String check(Path file, long fileSize, Reader reader) {
        lastOutcome = "";
        lastMessage = "";
        Future<String> f = worker.submit(() -> {
            long a0 = allocated();
            String problem = runCase(file, reader);
            long used = allocated() - a0;
            if (problem == null && used > allocationLimit(fileSize)) {
                problem = "allocated " + used + " bytes for a " + fileSize + "-byte file (limit " + allocationLimit(fileSize) + ")";
            }
            return problem;
        });
        long t0 = System.nanoTime();
        try {
            String problem = f.get(limit.toMillis(), TimeUnit.MILLISECONDS);
            long took = System.nanoTime() - t0;
            lastNanos = took;
            if (took > slowestNanos) {
                slowestNanos = took;
            }
            return problem;
        } catch (TimeoutException e) {
            f.cancel(true);
            worker.shutdownNow(); // the stuck thread is a daemon; a fresh one runs the next case
            worker = newWorker();
            return "did not finish within " + limit.toSeconds() + " s";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } catch (ExecutionException e) {
            return "the guard failed: " + e.getCause();
        }
    }

    private String runCase(Path file, Reader reader) {
        Object v;
        try {
            v = reader.read(file);
        } catch (Lstm4jException e) {
            count(e.getClass().getSimpleName());
            lastMessage = Names.safe(String.valueOf(e.getMessage()), 400);
            return message(e);
        } catch (Throwable e) {
            return trace(e);
        }
        if (!(v instanceof StateDict sd)) {
            count("read");
            return null;
        }
        try {
            ModelLoader.fromStateDict(sd, ModelLoader.Options.DEFAULT.withMaxBytes(MAX_BYTES));
            count("model");
            return null;
        } catch (Lstm4jException e) {
            count("read, then " + e.getClass().getSimpleName());
            lastMessage = Names.safe(String.valueOf(e.getMessage()), 400);
            String m = message(e);
            return m == null ? null : "ModelLoader: " + m;
        } catch (Throwable e) {
            return "ModelLoader: " + trace(e);
        }
    }

    private synchronized void count(String kind) {
        lastOutcome = kind;
        outcomes.merge(kind, 1, Integer::sum);
    }

    /** Null when the message is printable and bounded. */
    static String message(Throwable e) {
        String m = String.valueOf(e.getMessage());
        if (!Names.isPrintable(m)) {
            return "message holds a control or format character: " + Names.safe(m, 300);
        }
        if (m.length() > MAX_MESSAGE) {
            return "message of " + m.length() + " characters: " + Names.safe(m, 300);
        }
        return null;
    }

    static String trace(Throwable e) {
        StringWriter w = new StringWriter();
        e.printStackTrace(new PrintWriter(w));
        return w.toString().lines().limit(8).reduce((a, b) -> a + "\n    " + b).orElse("");
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
