package dev.lstm4j.internal.kernel;

import dev.lstm4j.Allocations;
import dev.lstm4j.LstmConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The batched forward over arrays with a reused workspace allocates nothing once warm, on every way it splits over
 * threads: by batch rows ({@code recurrences}, also over sequences of different lengths, and with a projection), by
 * direction, and by gate columns ({@code forwardByColumns}). Counted on the calling thread and lstm4j's helper threads
 * ({@link Allocations}).
 */
class ForwardAllocationTest {
    // what, I, H, layers, bidirectional, proj, threads, batch, steps
    @ParameterizedTest(name = "{0} on {6} threads")
    @CsvSource({
            "rows,          16, 32,  2,     false,         0,    1,       256,   3",
            "rows,          16, 32,  2,     false,         0,    2,       256,   3",
            "lengths,       16, 32,  2,     false,         0,    2,       256,   3",
            "projection,    16, 32,  1,     false,         8,    2,       64,    5",
            "directions,    16, 32,  2,     true,          0,    2,       8,     5",
            "columns,       16, 128, 1,     false,         0,    2,       1,     8",
    })
    void forwardWithAWorkspaceAllocatesNothing(String what, int in, int hidden, int layers, boolean bi, int proj, int threads, int batch,
                                               int steps) {
        long seed = new SplittableRandom().nextLong();
        System.out.println("ForwardAllocationTest " + what + " seed " + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        LstmConfig config = new LstmConfig(in, hidden, layers, bi, proj, true);
        FastLstm fast = new FastLstm(config, KernelContractTest.randomCells(config, rnd), Kernels.get(), threads);
        FastLstm.Workspace ws = fast.workspace(batch, steps);
        int d = config.directions(), hh = config.outputHiddenSize(), ld = layers * d;
        float[] x = KernelContractTest.random(rnd, batch * steps * in, 1f);
        float[] h0 = KernelContractTest.random(rnd, ld * batch * hh, 1f), c0 = KernelContractTest.random(rnd, ld * batch * hidden, 1f);
        float[] out = new float[batch * steps * d * hh], hN = new float[ld * batch * hh], cN = new float[ld * batch * hidden];
        int[] lengths = null;
        if (what.equals("lengths")) {
            lengths = new int[batch];
            for (int b = 0; b < batch; b++) {
                lengths[b] = 1 + rnd.nextInt(steps);
            }
            lengths[0] = steps - 1;  // never all full, which runs as no lengths
        }
        int[] len = lengths;
        Allocations.Round best = Allocations.cleanest(() -> fast.forward(ws, x, len, h0, c0, out, hN, cN), 20, 0);
        System.out.println("ForwardAllocationTest " + what + ", " + fast + ", B=" + batch + " T=" + steps + ", column split "
                + (ws.columns > 1) + ": " + best);
        if (what.equals("columns") && Runtime.getRuntime().availableProcessors() >= 2) {
            assertEquals(2, ws.columns, "this case is meant to split each step's gate columns");
        }
        if (threads > 1 && Runtime.getRuntime().availableProcessors() >= 2) {
            assertTrue(best.helperNames().stream().anyMatch(name -> name.startsWith("lstm4j-" + threads + "-step-")),
                    "no helper thread of a split pass: " + best.helperNames());
        }
        assertEquals(0, best.caller(), "bytes allocated by the calling thread in the cleanest round: " + best);
        assertEquals(0, best.helpers(), "bytes allocated by lstm4j's helper threads in the cleanest round: " + best);
    }
}
