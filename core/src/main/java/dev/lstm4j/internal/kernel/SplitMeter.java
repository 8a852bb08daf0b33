package dev.lstm4j.internal.kernel;

import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * Decides, step by step, whether splitting a step over a {@link StepTeam} pays on this machine right now, by
 * measuring it: on a shared machine the same build's split steps were faster than whole ones for minutes, then slower
 * for minutes (docs/performance.md), and on a CPU shared with another busy thread a split step can take many times a
 * whole one. Every {@code recheck} steps: {@code timed} split steps and at least {@code warmNanos} to warm the helpers
 * up (their part of the weights must reach their caches), then {@code timed} split and {@code timed} whole steps, each
 * timed alone (not the caller's gaps between steps); splitting is kept only if its median step was at least 10%
 * faster. Medians, because one preempted step can take milliseconds.
 *
 * <p>A median cannot see a helper that is preempted now and then while it holds a piece (a busy thread on its CPU):
 * most split steps are fast, a few wait milliseconds, and the mean, which is what the caller pays, is worse than one
 * thread. So every split step of the period that follows is timed too, and every few hundred of them the split is
 * judged again on their mean against the whole steps' mean (the slowest left out): if it is not 10% faster, the rest
 * of the period runs whole, and each such period in a row doubles the periods run whole without measuring (up to
 * {@link #MAX_BACKOFF}), so a busy neighbour costs little more than the measuring windows. Not thread-safe: one per stream or workspace.
 *
 * <p>Use: {@code boolean split = meter.split(helpersAwake)}, run the step so, then {@code meter.done(split, t0)} with
 * {@code t0 = meter.start()} read just before the step.
 */
final class SplitMeter {
    /** Split steps a period needs before their mean is judged. */
    static final int MIN_KEPT = 64;
    /** The most periods run whole, without measuring, after splits that did not pay. */
    static final int MAX_BACKOFF = 64;
    /**
     * A period ends after {@code recheck} steps or after about this long of whole steps, whichever comes first: at
     * H=2048, batch 1 (7 ms steps) 8192 steps took a minute, and a first decision taken while the JIT was still
     * compiling the split path (split 7.3 ms, whole 7.4 ms; 5 ms once compiled) stood all that time.
     */
    static final long PERIOD_NANOS = 2_000_000_000L;
    private int recheck, timed;
    private LongSupplier clock = System::nanoTime;
    private long warmNanos, warmStart;
    private int phase, period;
    private long[] splitNanos, wholeNanos;
    private boolean splitPays = true;
    private double wholeMean;
    private long keptNanos;
    private int keptSteps, backoff = 1;
    private long skipSteps;

    /** Measures every {@code recheck} steps, {@code timed} steps each way, after at least {@code warmNanos} of warm-up. */
    SplitMeter(int recheck, int timed, long warmNanos) {
        this.recheck = recheck;
        this.timed = timed;
        this.warmNanos = warmNanos;
        this.period = recheck;
        splitNanos = new long[timed];
        wholeNanos = new long[timed];
    }

    /** Tests: shorter measuring windows, to cross several decisions in a few steps, timed by {@code clock}. */
    void calibration(int recheckSteps, int timedSteps, LongSupplier clock) {
        calibration(recheckSteps, timedSteps);
        this.clock = clock;
    }

    /** Tests and short passes: shorter measuring windows, without a minimum warm-up time. */
    void calibration(int recheckSteps, int timedSteps) {
        recheck = recheckSteps;
        period = recheckSteps;
        timed = timedSteps;
        warmNanos = 0;
        splitNanos = new long[timed];
        wholeNanos = new long[timed];
        phase = 0;
        keptNanos = 0;
        keptSteps = 0;
        backoff = 1;
        skipSteps = 0;
    }

    /** Whether splitting pays, as last measured (true until measured). */
    boolean splitPays() {
        return splitPays;
    }

    /**
     * Whether the next step is meant to split: while warming up and in the first timed window, then as measured; never
     * while backing off.
     */
    boolean wanted() {
        return skipSteps == 0 && (phase < 2 * timed || (phase >= 3 * timed && splitPays));
    }

    /** Whether the next step is timed (read the clock before it). */
    boolean timing() {
        return skipSteps == 0 && (phase >= timed && phase < 3 * timed || phase == 0 || phase == timed - 1 || phase >= 3 * timed && splitPays);
    }

    /** Steps left to run whole without measuring (tests). */
    long backingOff() {
        return skipSteps;
    }

    long now() {
        return clock.getAsLong();
    }

    /**
     * Whether to split the next step. A split is wanted but not done while the helpers are asleep: the caller then
     * does the step whole (and should wake them), and a timed window starts again once they are awake.
     */
    boolean split(boolean helpersAwake) {
        return wanted() && helpersAwake;
    }

    /**
     * After a step: {@code split} is what {@link #split} returned, {@code t0} the clock before the step (ignored when
     * {@link #timing()} was false), {@code t1} after it.
     */
    void done(boolean split, long t0, long t1) {
        if (skipSteps > 0) {
            skipSteps--;
            return;
        }
        if (phase < timed) {
            if (phase == 0 && split) {
                warmStart = t0;
            } else if (phase == timed - 1 && t1 - warmStart < warmNanos) {
                return;  // warm longer
            }
        } else if (phase < 2 * timed && !split) {
            phase = 0;  // the helpers fell asleep: warm them up again
            return;
        } else if (phase < 3 * timed) {
            if (phase < 2 * timed) {
                splitNanos[phase - timed] = t1 - t0;
            } else {
                wholeNanos[phase - 2 * timed] = t1 - t0;
            }
            if (phase == 3 * timed - 1) {
                Arrays.sort(splitNanos);
                Arrays.sort(wholeNanos);
                splitPays = splitNanos[timed / 2] < 0.9 * wholeNanos[timed / 2];
                long sum = 0;
                for (int k = 0; k < timed - 1; k++) {
                    sum += wholeNanos[k];  // the slowest whole step is left out: it may be the caller's own preemption
                }
                wholeMean = timed > 1 ? sum / (double) (timed - 1) : wholeNanos[0];
                period = (int) Math.max(4L * timed, Math.min(recheck, (long) (PERIOD_NANOS / Math.max(1.0, wholeMean))));
                keptNanos = 0;
                keptSteps = 0;
            }
        } else if (split) {
            keptNanos += t1 - t0;
            keptSteps++;
            if (keptSteps % judgeEvery() == 0 && keptNanos / (double) keptSteps >= 0.9 * wholeMean) {
                splitPays = false;  // the rest of the period runs whole
            }
        }
        if (phase > 0 || split) {
            // a check starts only once the helpers are awake: sleeping helpers are waited for, not timed
            if (phase + 1 >= period) {
                phase = 0;
                endOfPeriod();
            } else {
                phase++;
            }
        }
    }

    /** Kept split steps between two judgements of their mean: enough to include a preempted helper's waits. */
    private int judgeEvery() {
        return Math.max(MIN_KEPT, Math.min(512, recheck / 8));
    }

    /** Backs off after a period whose split did not pay, by its median or by its mean; a period that paid resets. */
    private void endOfPeriod() {
        if (splitPays) {
            backoff = 1;
            return;
        }
        skipSteps = (long) (backoff - 1) * period;
        backoff = Math.min(MAX_BACKOFF, 2 * backoff);
    }
}
