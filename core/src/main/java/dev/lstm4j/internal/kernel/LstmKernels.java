package dev.lstm4j.internal.kernel;

/**
 * The float32 building blocks of the fast path: one matrix product against packed weights and the fused
 * gate math. {@link ScalarKernels} is plain Java; {@code VectorKernels} uses the Vector API and is loaded
 * only by {@link Kernels} when {@code jdk.incubator.vector} is readable. No type of this interface
 * mentions the Vector API, so the scalar path never loads it.
 *
 * <p>Both implementations give {@link dev.lstm4j.reference.ReferenceLstm}'s results within a tolerance
 * scaled by the reduction length, proven by {@code KernelContractTest} and its subclasses.
 *
 * <p>Legend: m rows (batch rows, or batch × steps), k reduction length, n outputs, H hidden.
 */
public interface LstmKernels {
    /** Short name for logs and benchmark tables: {@code scalar} or {@code vector(512 bit)}. */
    String name();

    /**
     * Whether these kernels run at full speed yet: false while {@link WarmingKernels} waits for the JIT to compile the
     * vector kernels, when callers keep their work on one thread (the JIT needs the other core).
     */
    default boolean compiled() {
        return true;
    }

    /** Columns per packed panel; {@link PackedMatrix#pack} pads n up to a multiple of it. */
    int panelWidth();

    /**
     * {@code C = init + A · Wᵀ} for a weight W of shape {@code (n, k)} packed by {@link #pack}.
     *
     * <p>A: {@code (m, k)} at {@code a[aOff + r*lda + kk]}. C: {@code (m, nPad)} at {@code c[cOff + r*ldc + j]};
     * every one of the {@code w.paddedOutputs()} columns is written, so {@code ldc ≥ nPad}. init is C itself
     * when {@code accumulate}, else {@code bias} (length ≥ nPad) when not null, else zero.
     */
    default void gemm(float[] a, int aOff, int lda, int m, PackedMatrix w, float[] bias, float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(a, aOff, lda, m, w, 0, w.panels(), bias, c, cOff, ldc, accumulate);
    }

    /**
     * As {@link #gemm(float[], int, int, int, PackedMatrix, float[], float[], int, int, boolean)}, for the output
     * columns of panels {@code panelFrom} to {@code panelTo - 1} only (threads split a product this way).
     */
    default void gemm(float[] a, int aOff, int lda, int m, PackedMatrix w, int panelFrom, int panelTo, float[] bias, float[] c, int cOff,
                      int ldc, boolean accumulate) {
        gemm(a, aOff, lda, m, w, panelFrom, panelTo, bias, c, cOff, ldc, accumulate, false);
    }

    /**
     * As above, reading the panels from the last to the first when {@code descending} (each panel's columns are
     * computed alone, so the order changes no result). A recurrence alternates the order every step: a step then
     * starts with the panels the one before read last, which are still cached, when W_hh is about the cache's size.
     */
    void gemm(float[] a, int aOff, int lda, int m, PackedMatrix w, int panelFrom, int panelTo, float[] bias, float[] c, int cOff,
              int ldc, boolean accumulate, boolean descending);

    /**
     * {@code C = init + [A | A2] · Wᵀ} for W of shape {@code (n, k)} packed by {@link #pack}, whose first {@code k1}
     * columns multiply A's rows and the other {@code k - k1} A2's: the input projection and the recurrent product of a
     * step as one product over {@code [x_t | h_{t-1}]} and {@code [W_ih | W_hh]}, with no copy of x_t and h_{t-1} into
     * one row. A: {@code (m, k1)} at {@code a[aOff + r*lda + kk]}; A2: {@code (m, k - k1)} at
     * {@code a2[a2Off + r*lda2 + kk]}; C as in {@link #gemm}; init is {@code bias} when not null, else zero.
     */
    void gemm2(float[] a, int aOff, int lda, int k1, float[] a2, int a2Off, int lda2, int m, PackedMatrix w, float[] bias, float[] c,
               int cOff, int ldc);

    /**
     * The fused element-wise step for one batch row. The {@code 4·hidden} pre-activations at {@code zOff} come in
     * chunks of {@code unit} hidden units (the last chunk may be shorter), each chunk holding its units' gate blocks
     * i, f, g, o in PyTorch's order; with {@code unit ≥ hidden} that is PyTorch's own [i | f | g | o] row. The g
     * pre-activations come <em>doubled</em> ({@code z_g' = 2·z_g}; the fast path packs the g rows of the weights
     * and biases doubled, which is exact), so that one σ pass covers all four gates:
     * <pre>
     * i = σ(z_i)  f = σ(z_f)  g = tanh(z_g) = 2σ(z_g') − 1  o = σ(z_o)
     * c_t = f ⊙ c_{t-1} + i ⊙ g      (c updated in place at cOff)
     * h_t = o ⊙ tanh(c_t)            (written at hOff)
     * </pre>
     * The pre-activations are consumed: an implementation may overwrite them (with the activations).
     */
    void gates(float[] z, int zOff, int hidden, int unit, float[] c, int cOff, float[] h, int hOff);

    /** Packs a row-major {@code (n, k)} weight (PyTorch's {@code (out, in)}) into this kernel's panels. */
    default PackedMatrix pack(float[] w, int n, int k) {
        return PackedMatrix.pack(w, n, k, panelWidth());
    }

    /** Packs a weight (n, k) read one row at a time, for this kernel's panel width. */
    default PackedMatrix pack(PackedMatrix.RowSource rows, int n, int k) {
        return PackedMatrix.pack(rows, n, k, panelWidth());
    }
}
