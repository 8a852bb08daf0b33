package dev.lstm4j.internal.io;

import dev.lstm4j.FileFormatException;

import java.nio.file.Path;

/**
 * What reading one weights file may expand to: every tensor made, at its expanded size (elements × the
 * size of its dtype, so a stride-0 view of one float counts as the whole tensor it becomes), and every zip
 * entry read, at its inflated size. Each reader charges the budget from the sizes a file declares, before
 * it allocates, so a small file cannot make a huge allocation.
 *
 * <p>The limit is {@code maxBytes}: {@link ModelLoader.Options#maxBytes()}, or the {@code maxBytes}
 * argument of {@link WeightsFiles#read(Path, String, long)}; by default {@link #defaultMaxBytes()}. Not
 * thread-safe: one budget belongs to one read.
 */
final class Budget {
    /** The most the default allows, whatever the heap: 4 GiB. */
    static final long DEFAULT_CAP = 4L << 30;

    private final Path file;
    private final long max;
    private long used;

    Budget(Path file, long maxBytes) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("maxBytes must be positive, found " + maxBytes);
        }
        this.file = file;
        this.max = maxBytes;
    }

    /** Half the JVM's maximum heap, at most 4 GiB (at least 64 MiB). */
    static long defaultMaxBytes() {
        return Math.min(DEFAULT_CAP, Math.max(64L << 20, Runtime.getRuntime().maxMemory() / 2));
    }

    long max() {
        return max;
    }

    long used() {
        return used;
    }

    /**
     * Takes {@code bytes} from the budget, or refuses the file.
     *
     * @param what what the bytes are for, already safe to print (e.g. {@code tensor 'lstm.weight_ih_l0'})
     */
    void charge(long bytes, String what) {
        if (bytes < 0 || bytes > max - used) {
            throw new FileFormatException(file, what + " expands to " + (bytes < 0 ? "more than 2^63" : String.valueOf(bytes))
                    + " bytes; with the " + used + " already read that is over the limit of " + max + " bytes (maxBytes) for one"
                    + " file. A small file that expands this far is forged (a compressed entry or a stride-0 view); for a genuine"
                    + " large model raise the limit with LoadOptions.withMaxBytes");
        }
        used += bytes;
    }
}
