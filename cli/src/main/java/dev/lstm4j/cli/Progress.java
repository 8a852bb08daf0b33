package dev.lstm4j.cli;

import dev.lstm4j.reference.StepObserver;
import dev.lstm4j.reference.StepValues;

import java.io.PrintWriter;

/** Shows "step k of N" on stderr while a long run goes, only when stderr is a terminal. */
final class Progress implements StepObserver {
    private static final long MIN_STEPS = 50_000;
    private final PrintWriter err;
    private final long total;
    private long done;
    private long lastPrint;

    private Progress(PrintWriter err, long total) {
        this.err = err;
        this.total = total;
    }

    /** A progress reporter when stderr is a terminal and the run is long, else null (no observer, no cost). */
    static Progress forTerminal(PrintWriter err, long total) {
        return System.console() != null && total >= MIN_STEPS ? new Progress(err, total) : null;
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
        err.print("\r" + " ".repeat(60) + "\r");
        err.flush();
    }
}
