package dev.lstm4j.internal.kernel;

/**
 * A weight {@code W (n, k)} stored as its transpose in panels of {@code nr} output columns, so a kernel reads
 * each panel front to back: {@code data[(p*k + kk)*nr + j] = W[p*nr + j][kk]}, zero for the padding columns
 * past n. Packed once when the engine is built (the training path repacks in place: {@link #set}).
 */
public final class PackedMatrix {
    private final int n;
    private final int k;
    private final int nr;
    private final float[] data;

    private PackedMatrix(int n, int k, int nr, float[] data) {
        this.n = n;
        this.k = k;
        this.nr = nr;
        this.data = data;
    }

    /** Packs row-major {@code w (n, k)} into panels of {@code nr} columns. */
    public static PackedMatrix pack(float[] w, int n, int k, int nr) {
        if (w.length != n * k) {
            throw new IllegalArgumentException("weight of " + w.length + " values for shape (" + n + ", " + k + ")");
        }
        int panels = (n + nr - 1) / nr;
        float[] data = new float[panels * k * nr];
        for (int p = 0; p < panels; p++) {
            for (int kk = 0; kk < k; kk++) {
                for (int j = 0; j < nr && p * nr + j < n; j++) {
                    data[(p * k + kk) * nr + j] = w[(p * nr + j) * k + kk];
                }
            }
        }
        return new PackedMatrix(n, k, nr, data);
    }

    /** Fills {@code dst[0..k)} with row {@code r} of a weight (n, k). */
    public interface RowSource {
        void row(int r, float[] dst);
    }

    /**
     * Packs a weight (n, k) read one row at a time, so the only copy of the weight this makes is the packed one
     * (a large model's weights are not first copied into a row-major array).
     */
    public static PackedMatrix pack(RowSource rows, int n, int k, int nr) {
        int panels = (n + nr - 1) / nr;
        long size = (long) panels * k * nr;
        if (size > Integer.MAX_VALUE - 8) {
            throw new dev.lstm4j.ModelException("a weight of shape (" + n + ", " + k + ") is too large for one Java array ("
                    + size + " floats packed); lstm4j holds at most 2^31 - 9 values per weight");
        }
        float[] data = new float[(int) size];
        float[] row = new float[k];
        for (int r = 0; r < n; r++) {
            rows.row(r, row);
            int p = r / nr, j = r % nr, base = p * k * nr + j;
            for (int kk = 0; kk < k; kk++) {
                data[base + kk * nr] = row[kk];
            }
        }
        return new PackedMatrix(n, k, nr, data);
    }

    /**
     * An all-zero packed weight of shape (n, k), for {@link #set} or {@link #setTransposed} to fill: the training
     * path repacks its weights after every optimizer step, and packs its gradient products' operands, without
     * allocating.
     */
    public static PackedMatrix zeros(int n, int k, int nr) {
        int panels = (n + nr - 1) / nr;
        return new PackedMatrix(n, k, nr, new float[panels * k * nr]);
    }

    /** Repacks row-major {@code w (n, k)} into these panels (the padding columns stay zero). */
    public void set(float[] w) {
        if (w.length != n * k) {
            throw new IllegalArgumentException("weight of " + w.length + " values for shape (" + n + ", " + k + ")");
        }
        for (int p = 0, panels = panels(); p < panels; p++) {
            int cols = Math.min(nr, n - p * nr);
            for (int kk = 0; kk < k; kk++) {
                int d = (p * k + kk) * nr;
                for (int j = 0; j < cols; j++) {
                    data[d + j] = w[(p * nr + j) * k + kk];
                }
            }
        }
    }

    /**
     * Packs the weight whose transpose is given: {@code W[j][kk] = s[sOff + kk*ld + j]}, so S is (k, n) row-major
     * with row stride ld.
     */
    public void setTransposed(float[] s, int sOff, int ld) {
        setTransposedRows(s, sOff, ld, 0, k);
    }

    /**
     * Packs rows {@code kFrom .. kFrom+count-1} of S only: {@code W[j][kFrom + q] = s[sOff + q*ld + j]}, so a producer
     * can pack the rows it has just written, while they are cached.
     */
    public void setTransposedRows(float[] s, int sOff, int ld, int kFrom, int count) {
        // 16 rows of S at a time, so that the rows being read stay cached while each panel takes its 16 rows in one run
        int panels = panels();
        for (int q0 = 0; q0 < count; q0 += 16) {
            int q1 = Math.min(count, q0 + 16);
            for (int p = 0; p < panels; p++) {
                int cols = Math.min(nr, n - p * nr);
                for (int q = q0; q < q1; q++) {
                    int dst = (p * k + kFrom + q) * nr, from = sOff + q * ld + p * nr;
                    for (int j = 0; j < cols; j++) {
                        data[dst + j] = s[from + j];
                    }
                }
            }
        }
    }

    /** W[r][c], read back from the panels. */
    public float get(int r, int c) {
        return data[((r / nr) * k + c) * nr + r % nr];
    }

    /** n, the real output count. */
    public int outputs() {
        return n;
    }

    /** n rounded up to whole panels: the columns a product writes. */
    public int paddedOutputs() {
        return panels() * nr;
    }

    /** k, the reduction length. */
    public int depth() {
        return k;
    }

    /** Columns per panel. */
    public int panelWidth() {
        return nr;
    }

    public int panels() {
        return data.length / Math.max(1, k * nr);
    }

    /** The packed values; kernels read them, nobody writes them. */
    float[] data() {
        return data;
    }
}
