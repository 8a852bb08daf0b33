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
 * faster. Medians, because one preempted step can take milliseconds. Not thread-safe: one per stream or workspace.
 *
 * <p>Use: {@code boolean split = meter.split(helpersAwake)}, run the step so, then {@code meter.done(split, t0)} with
 * {@code t0 = meter.start()} read just before the step.
 */
final class SplitMeter {
    private int recheck, timed;
    private LongSupplier clock = System::nanoTime;
    private long warmNanos, warmStart;
    private int phase;
    private long[] splitNanos, wholeNanos;
    private boolean splitPays = true;

    /** Measures every {@code recheck} steps, {@code timed} steps each way, after at least {@code warmNanos} of warm-up. */
    SplitMeter(int recheck, int timed, long warmNanos) {
        this.recheck = recheck;
        this.timed = timed;
        this.warmNanos = warmNanos;
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
        timed = timedSteps;
        warmNanos = 0;
        splitNanos = new long[timed];
        wholeNanos = new long[timed];
        phase = 0;
    }

    /** Whether splitting pays, as last measured (true until measured). */
    boolean splitPays() {
        return splitPays;
    }

    /** Whether the next step is meant to split: while warming up and in the first timed window, then as measured. */
    boolean wanted() {
        return phase < 2 * timed || (phase >= 3 * timed && splitPays);
    }

    /** Whether the next step is timed (read the clock before it). */
    boolean timing() {
        return phase >= timed && phase < 3 * timed || phase == 0 || phase == timed - 1;
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
            }
        }
        if (phase > 0 || split) {
            // a check starts only once the helpers are awake: sleeping helpers are waited for, not timed
            phase = phase + 1 == recheck ? 0 : phase + 1;
        }
    }
}
