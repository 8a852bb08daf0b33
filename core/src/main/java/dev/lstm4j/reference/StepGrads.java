package dev.lstm4j.reference;

/**
 * Everything one backward step computes, the mirror of {@link StepValues}: the gradient of the loss L with respect
 * to each value of the forward step. {@code dX} is ∂L/∂X. Shapes: dh (Hh,), dHidden, dc, every gate and the
 * states of the cell (H,), dZ (4H,) in PyTorch's row order i, f, g, o, dX (I_l,), dHPrev (Hh,). Computed in double.
 *
 * <p>The arrays are the ones the step used, not copies: {@code dh} and {@code dcFromNext} are its inputs, and
 * {@code dX}, {@code dHPrev} and {@code dCPrev} the caller's accumulators (they hold this step's values only when the
 * caller passed zeros, as {@link ReferenceBackward#backward} does).
 *
 * @param dh         dh_t, all of it: from the step's output (the loss, the head or the layer above) and from step t+1
 * @param dcFromNext dc_t from step t+1 only, {@code dc_t ⊙ f_{t+1}} there (or the gradient of c_n at the last step)
 * @param dHidden    ∂L/∂(o ⊙ tanh c_t): {@code W_hrᵀ dh} when projected, else {@code dh} itself
 * @param dc         dc_t, all of it: {@code dcFromNext + dHidden ⊙ o ⊙ (1 − tanh²(c_t))}
 * @param dO         ∂L/∂o = {@code dHidden ⊙ tanh(c_t)}
 * @param dI         ∂L/∂i = {@code dc ⊙ g}
 * @param dF         ∂L/∂f = {@code dc ⊙ c_{t-1}}
 * @param dG         ∂L/∂g = {@code dc ⊙ i}
 * @param dZ         the pre-activations: {@code dz_i = di ⊙ i(1 − i)}, {@code dz_f = df ⊙ f(1 − f)},
 *                   {@code dz_g = dg ⊙ (1 − g²)}, {@code dz_o = do ⊙ o(1 − o)}
 * @param dX         dx_t = {@code W_ihᵀ dz}
 * @param dHPrev     dh_{t-1} = {@code W_hhᵀ dz}, what flows back along h
 * @param dCPrev     dc_{t-1} = {@code dc ⊙ f}, what flows back along c
 */
public record StepGrads(double[] dh, double[] dcFromNext, double[] dHidden, double[] dc, double[] dO, double[] dI, double[] dF,
                        double[] dG, double[] dZ, double[] dX, double[] dHPrev, double[] dCPrev) {
    /** One gate's block of {@link #dZ()} ({@link ReferenceLstm#I}, {@code F}, {@code G} or {@code O}), a copy. */
    public double[] dZ(int gate) {
        int hs = dZ.length / 4;
        double[] r = new double[hs];
        System.arraycopy(dZ, gate * hs, r, 0, hs);
        return r;
    }
}
