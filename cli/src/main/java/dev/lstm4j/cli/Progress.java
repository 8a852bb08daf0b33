package dev.lstm4j.cli;

import dev.lstm4j.reference.StepObserver;
import dev.lstm4j.reference.StepValues;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Shows progress on stderr while a long run goes, only when stderr is a terminal: on the reference path, which
 * reports every step, "step k of N (p%), ETA"; on the fast path, which reports none (an observer would move the
 * run to the reference path), the elapsed time.
 */
final class Progress implements StepObserver {
    private static final long MIN_STEPS = 50_000;
    /** No ETA before this much of the run: the first steps include warm-up and say little about the rest. */
    private static final long ETA_AFTER_NANOS = 1_000_000_000L;
    private final PrintWriter err;
    private final long total;
    private final long start = System.nanoTime();
    private long done;
    private long lastPrint;
    private Thread ticker;

    private Progress(PrintWriter err, long total) {
        this.err = err;
        this.total = total;
    }

    /**
     * Whether stderr is a terminal. {@code -Dlstm4j.stderr.tty=true|false} decides when given (a launcher that pipes
     * stderr through a filter knows better); else, on Linux, where /proc/self/fd/2 points (a terminal: yes; a file:
     * no); else, and for a pipe (bin/lstm4j filters stderr through one), whether Java has a console.
     */
    static boolean stderrIsTerminal() {
        String forced = System.getProperty("lstm4j.stderr.tty");
        if (forced != null && !forced.isBlank()) {
            return Boolean.parseBoolean(forced.strip());
        }
        try {
            Path fd2 = Path.of("/proc/self/fd/2");
            if (Files.isSymbolicLink(fd2)) {
                String target = Files.readSymbolicLink(fd2).toString();
                if (target.startsWith("/dev/pts/") || target.startsWith("/dev/tty")) {
                    return true;
                }
                if (!target.startsWith("pipe:")) {
                    return false; // a file, /dev/null, a socket
                }
                // a pipe: bin/lstm4j passes stderr through a filter; show progress when the rest is interactive
            }
        } catch (IOException | SecurityException | UnsupportedOperationException e) {
            // not Linux, or not allowed to look: fall back to the console
        }
        return System.console() != null;
    }

    /** A step counter when stderr is a terminal and the run is long, else null (no observer, no cost). */
    static Progress forTerminal(PrintWriter err, long total) {
        return total >= MIN_STEPS && stderrIsTerminal() ? new Progress(err, total) : null;
    }

    /**
     * For a run that reports no steps: a daemon thread that shows the elapsed time after the first second,
     * when stderr is a terminal and the run is long; else null. Stop it with {@link #finish()}.
     */
    static Progress elapsedOnTerminal(PrintWriter err, long total) {
        if (total < MIN_STEPS || !stderrIsTerminal()) {
            return null;
        }
        Progress p = new Progress(err, total);
        p.ticker = new Thread(() -> {
            try {
                Thread.sleep(1000);
                while (true) {
                    synchronized (p.err) {
                        p.err.printf(Locale.ROOT, "\r  %d steps on the fast path: %s elapsed", p.total, duration(System.nanoTime() - p.start));
                        p.err.flush();
                    }
                    Thread.sleep(250);
                }
            } catch (InterruptedException done) {
                // finish() stops the ticker
            }
        }, "lstm4j-progress");
        p.ticker.setDaemon(true);
        p.ticker.start();
        return p;
    }

    @Override
    public void onStep(int layer, int direction, int batch, int step, StepValues values) {
        done++;
        long now = System.nanoTime();
        if (now - lastPrint > 200_000_000L) {
            lastPrint = now;
            err.print("\r" + line(done, total, now - start));
            err.flush();
        }
    }

    /** "  k / N steps (p%), ETA 1 min 05 s": the remaining time at the speed so far, once a second has passed. */
    static String line(long done, long total, long elapsedNanos) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "  %d / %d steps (%d%%)", done, total, total == 0 ? 100 : done * 100 / total));
        if (done > 0 && done < total && elapsedNanos >= ETA_AFTER_NANOS) {
            double left = (double) elapsedNanos * (total - done) / done;
            b.append(", ETA ").append(duration((long) left));
        }
        // pad so that a shorter line overwrites the end of a longer one
        while (b.length() < 48) {
            b.append(' ');
        }
        return b.toString();
    }

    /** "7 s", "2 min 05 s", "1 h 02 min". */
    static String duration(long nanos) {
        long s = Math.round(nanos / 1e9);
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%d h %02d min", s / 3600, (s % 3600) / 60);
    }

    void finish() {
        if (ticker != null) {
            ticker.interrupt();
            try {
                ticker.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        err.print("\r" + " ".repeat(60) + "\r");
        err.flush();
    }
}
