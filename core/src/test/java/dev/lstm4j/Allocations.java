package dev.lstm4j;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bytes a call allocates once warm, counted by ThreadMXBean on the calling thread and on lstm4j's own threads (named
 * {@code lstm4j-*}: the helpers that run a split pass's pieces). The Vector API boxes every vector until C2 has
 * compiled the kernels, and a deoptimisation can box again for a while, so a single count proves little: this takes
 * the cleanest of several rounds of calls. A round without a byte shows that the steady-state path allocates nothing,
 * while an allocation made on every call spoils every round.
 */
public final class Allocations {
    private Allocations() {
    }

    /** Bytes allocated in one round of calls by the calling thread and by lstm4j's threads. */
    public record Round(int calls, long caller, long helpers, List<String> helperNames) {
        public long total() {
            return caller + helpers;
        }

        @Override
        public String toString() {
            return caller + " B on the calling thread and " + helpers + " B on " + helperNames + " in " + calls + " calls";
        }
    }

    /**
     * Warms {@code call} up (at least 2 s and 200 calls), then measures rounds of {@code calls} calls: at least 5, and
     * more, for up to 60 s (a loaded machine compiles the vector kernels late), until one allocates at most {@code goal}
     * bytes in all. Returns the round that allocated least.
     */
    public static Round cleanest(Runnable call, int calls, long goal) {
        long warmUntil = System.nanoTime() + 2_000_000_000L;
        for (int i = 0; i < 200 || System.nanoTime() < warmUntil; i++) {
            call.run();
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled(), "this JVM does not count allocated bytes per thread");
        Round best = null;
        long deadline = System.nanoTime() + 60_000_000_000L;
        for (int r = 0; r < 5 || best.total() > goal && System.nanoTime() < deadline; r++) {
            List<Thread> helpers = new ArrayList<>();
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().startsWith("lstm4j-") && t != Thread.currentThread()) {
                    helpers.add(t);
                }
            }
            long[] ids = helpers.stream().mapToLong(Thread::getId).toArray();
            // the counters are read outside the calling thread's window: reading the helpers' allocates an array
            long[] helpersBefore = mx.getThreadAllocatedBytes(ids);
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < calls; i++) {
                call.run();
            }
            long caller = mx.getCurrentThreadAllocatedBytes() - before;
            long[] helpersAfter = mx.getThreadAllocatedBytes(ids);
            long helperBytes = 0;
            for (int k = 0; k < ids.length; k++) {
                if (helpersBefore[k] >= 0 && helpersAfter[k] >= 0) {  // -1: the thread ended
                    helperBytes += helpersAfter[k] - helpersBefore[k];
                }
            }
            if (best == null || caller + helperBytes < best.total()) {
                best = new Round(calls, caller, helperBytes, helpers.stream().map(Thread::getName).sorted().collect(Collectors.toList()));
            }
        }
        return best;
    }
}
