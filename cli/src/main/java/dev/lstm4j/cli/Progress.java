package dev.lstm4j.cli;

import dev.lstm4j.reference.StepObserver;
import dev.lstm4j.reference.StepValues;

import java.io.PrintWriter;

/**
 * Shows progress on stderr while a long run goes, only when stderr is a terminal: "step k of N" on the
 * reference path, which reports every step; elapsed time on the fast path, which reports none (an observer
 * would move the run to the reference path).
 */
final class Progress implements StepObserver {
    private static final long MIN_STEPS = 50_000;
    private final PrintWriter err;
    private final long total;
    private long done;
    private long lastPrint;
    private Thread ticker;

    private Progress(PrintWriter err, long total) {
        this.err = err;
        this.total = total;
    }

    /** A step counter when stderr is a terminal and the run is long, else null (no observer, no cost). */
    static Progress forTerminal(PrintWriter err, long total) {
        return System.console() != null && total >= MIN_STEPS ? new Progress(err, total) : null;
    }

    /**
     * For a run that reports no steps: a daemon thread that shows the elapsed time after the first second,
     * when stderr is a terminal and the run is long; else null. Stop it with {@link #finish()}.
     */
    static Progress elapsedOnTerminal(PrintWriter err, long total) {
        if (System.console() == null || total < MIN_STEPS) {
            return null;
        }
        Progress p = new Progress(err, total);
        long start = System.nanoTime();
        p.ticker = new Thread(() -> {
            try {
                Thread.sleep(1000);
                while (true) {
                    synchronized (p.err) {
                        p.err.printf("\r  %d steps on the fast path: %.1f s", p.total, (System.nanoTime() - start) / 1e9);
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
            err.printf("\r  %d / %d steps (%d%%)", done, total, done * 100 / total);
            err.flush();
        }
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
