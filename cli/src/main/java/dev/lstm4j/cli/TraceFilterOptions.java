package dev.lstm4j.cli;

import dev.lstm4j.InputException;
import dev.lstm4j.trace.TraceFilter;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/** {@code --step --layer --direction --batch}: which steps a trace shows. */
final class TraceFilterOptions {
    @Option(names = "--step", split = ",", paramLabel = "T",
            description = "Time steps to show: indices and ranges, e.g. 0,3 or 2..5 (0-based; default all).")
    List<String> steps;

    @Option(names = "--layer", split = ",", paramLabel = "L", description = "Layers to show, e.g. 0 or 0..1 (default all).")
    List<String> layers;

    @Option(names = "--direction", split = ",", paramLabel = "D",
            description = "Directions to show: forward (0), reverse (1) (default both).")
    List<String> directions;

    @Option(names = "--batch", split = ",", paramLabel = "B", description = "Batch rows to show, e.g. 0,2 (default all).")
    List<String> batches;

    /**
     * The filter for an input of {@code stepCount} steps and {@code batchCount} rows and a model of {@code layerCount}
     * layers: ranges are clamped to what exists ({@code --step 0..2147483647} is every step); a single index that does
     * not exist is an error that says the valid range.
     */
    TraceFilter filter(int stepCount, int layerCount, int batchCount) {
        return new TraceFilter(indices("--step", steps, stepCount - 1), indices("--layer", layers, layerCount - 1), directions(),
                indices("--batch", batches, batchCount - 1));
    }

    /** Steps of a (B, T, I) / (T, B, I) / (T, I) input, or of token ids (B, T) / (T, B) / (T,), for {@link #filter}. */
    static int steps(dev.lstm4j.Tensor x, dev.lstm4j.Layout layout, boolean tokens) {
        int rank = x.rank() + (tokens ? 1 : 0);
        return rank == 3 && layout == dev.lstm4j.Layout.BATCH_FIRST ? x.size(1) : x.size(0);
    }

    /** Batch rows of such an input, for {@link #filter}. */
    static int batches(dev.lstm4j.Tensor x, dev.lstm4j.Layout layout, boolean tokens) {
        int rank = x.rank() + (tokens ? 1 : 0);
        return rank < 3 ? 1 : layout == dev.lstm4j.Layout.BATCH_FIRST ? x.size(0) : x.size(1);
    }

    private Set<Integer> directions() {
        if (directions == null) {
            return null;
        }
        Set<Integer> r = new TreeSet<>();
        for (String d : directions) {
            switch (d.strip().toLowerCase(Locale.ROOT)) {
                case "forward", "fwd", "0" -> r.add(0);
                case "reverse", "rev", "backward", "1" -> r.add(1);
                default -> throw new InputException("--direction: '" + d + "' is not a direction; use forward (0) or reverse (1)");
            }
        }
        return r;
    }

    /**
     * Indices and inclusive ranges {@code a..b} (or {@code a-b}), each range clamped to {@code 0..max}; null when the
     * option was not given.
     */
    static Set<Integer> indices(String option, List<String> items, int max) {
        if (items == null) {
            return null;
        }
        Set<Integer> r = new TreeSet<>();
        for (String item : items) {
            String s = item.strip();
            String[] ends = s.contains("..") ? s.split("\\.\\.", -1) : s.split("-", -1);
            try {
                if (ends.length == 1) {
                    r.add(Integer.parseInt(s));
                } else if (ends.length == 2) {
                    int a = Integer.parseInt(ends[0].strip()), b = Integer.parseInt(ends[1].strip());
                    if (a > b) {
                        throw new InputException(option + ": range '" + s + "' is empty; write the smaller index first");
                    }
                    // clamped to what exists, so a range never overflows or outgrows the input
                    for (long k = Math.max(0, a); k <= Math.min((long) b, max); k++) {
                        r.add((int) k);
                    }
                } else {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException e) {
                throw Causes.keep(new InputException(option + ": '" + s + "' is not an index or a range like 2..5"), e);
            }
        }
        return r;
    }
}
