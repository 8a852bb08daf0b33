package dev.lstm4j.trace;

import java.util.Set;
import java.util.TreeSet;

/**
 * Which steps a trace keeps. Each set lists the indices to keep; null keeps all.
 *
 * @param steps      time indices t
 * @param layers     0-based layers
 * @param directions 0 forward, 1 reverse
 * @param batches    batch rows
 */
public record TraceFilter(Set<Integer> steps, Set<Integer> layers, Set<Integer> directions, Set<Integer> batches) {
    /** Keeps everything. */
    public static final TraceFilter ALL = new TraceFilter(null, null, null, null);

    public TraceFilter {
        steps = copy(steps);
        layers = copy(layers);
        directions = copy(directions);
        batches = copy(batches);
    }

    private static Set<Integer> copy(Set<Integer> s) {
        return s == null ? null : java.util.Collections.unmodifiableSet(new TreeSet<>(s));
    }

    /** Whether a step at these indices is kept. */
    public boolean accepts(int layer, int direction, int batch, int step) {
        return keeps(layers, layer) && keeps(directions, direction) && keeps(batches, batch) && keeps(steps, step);
    }

    private static boolean keeps(Set<Integer> s, int v) {
        return s == null || s.contains(v);
    }
}
