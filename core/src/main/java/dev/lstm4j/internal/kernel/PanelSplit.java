package dev.lstm4j.internal.kernel;

/**
 * Products split over threads by output panels, for the training path: the caller and the helpers of the
 * {@link StepTeam} that {@link Workers#forThreads} shares with the inference engines each compute a range of W's
 * panels. A panel's columns are computed the same way whichever thread computes them, so the result does not depend
 * on the thread count. When another caller holds the team, or the product is small, the caller computes it alone.
 *
 * <p>One caller at a time per instance (it keeps the arguments of the product in flight); allocates nothing per
 * product.
 */
public final class PanelSplit {
    /** Below this many multiply-adds a product runs on the caller alone (a hand-off costs a few microseconds). */
    static final long MIN_SPLIT_MACS = 1 << 17;
    private final LstmKernels kernels;
    private final int threads;
    private final StepTeam team;
    private final Product product = new Product();
    private final RowWork rowWork = new RowWork();

    /**
     * @param threads at most this many threads compute one product (1: the caller's only); no more than the
     *                processors this JVM may run on
     */
    public PanelSplit(LstmKernels kernels, int threads) {
        this.kernels = kernels;
        this.threads = Math.max(1, Math.min(threads, Runtime.getRuntime().availableProcessors()));
        this.team = this.threads > 1 ? Workers.forThreads(threads).team(this.threads) : null;
    }

    public LstmKernels kernels() {
        return kernels;
    }

    /** Threads that share a product. */
    public int threads() {
        return threads;
    }

    /** {@link LstmKernels#gemm(float[], int, int, int, PackedMatrix, float[], float[], int, int, boolean)}, split by panels. */
    public void gemm(float[] a, int aOff, int lda, int m, PackedMatrix w, float[] bias, float[] c, int cOff, int ldc, boolean accumulate) {
        int panels = w.panels();
        if (team == null || panels < 2 || (long) m * w.depth() * w.paddedOutputs() < MIN_SPLIT_MACS || !team.tryAcquire()) {
            kernels.gemm(a, aOff, lda, m, w, bias, c, cOff, ldc, accumulate);
            return;
        }
        Product p = product;
        try {
            p.set(a, aOff, lda, m, w, bias, c, cOff, ldc, accumulate, Math.min(panels, 4 * threads));
            team.run(p, p.pieces);
        } finally {
            p.clear();
            team.release();
        }
    }

    /** Work over rows {@code from..to-1} that threads may run in any order (rows write apart). */
    public interface Rows {
        void run(int from, int to);
    }

    /**
     * Runs {@code task} over rows 0..rows-1, cut into ranges the threads share; on the caller alone when there is one
     * thread, another caller holds the team, or {@code rows < 2 * threads}. The task is kept by the caller, so this
     * allocates nothing.
     */
    public void rows(Rows task, int rows) {
        if (team == null || rows < 2 * threads || !team.tryAcquire()) {
            task.run(0, rows);
            return;
        }
        RowWork r = rowWork;
        try {
            r.task = task;
            r.rows = rows;
            r.pieces = Math.min(rows, 4 * threads);
            team.run(r, r.pieces);
        } finally {
            r.task = null;
            team.release();
        }
    }

    private static final class RowWork implements StepTeam.Work {
        Rows task;
        int rows, pieces;

        @Override
        public void run(int piece) {
            task.run(rows * piece / pieces, rows * (piece + 1) / pieces);
        }
    }

    /** One product's arguments; piece i is panels [panels·i/pieces, panels·(i+1)/pieces). */
    private final class Product implements StepTeam.Work {
        float[] a, bias, c;
        int aOff, lda, m, cOff, ldc, pieces;
        PackedMatrix w;
        boolean accumulate;

        void set(float[] a, int aOff, int lda, int m, PackedMatrix w, float[] bias, float[] c, int cOff, int ldc, boolean accumulate,
                 int pieces) {
            this.a = a;
            this.aOff = aOff;
            this.lda = lda;
            this.m = m;
            this.w = w;
            this.bias = bias;
            this.c = c;
            this.cOff = cOff;
            this.ldc = ldc;
            this.accumulate = accumulate;
            this.pieces = pieces;
        }

        /** Drops the caller's arrays, so that the shared team does not keep them reachable. */
        void clear() {
            a = bias = c = null;
            w = null;
        }

        @Override
        public void run(int piece) {
            int panels = w.panels();
            kernels.gemm(a, aOff, lda, m, w, panels * piece / pieces, panels * (piece + 1) / pieces, bias, c, cOff, ldc, accumulate);
        }
    }
}
