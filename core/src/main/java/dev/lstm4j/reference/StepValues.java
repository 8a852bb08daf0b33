package dev.lstm4j.reference;

/**
 * Everything one LSTM cell computes in one time step, as the reference card draws it. Shapes: x (I_l,),
 * hPrev (Hh,), cPrev (H,), every gate and cell term (H,), hidden (H,) before projection, h (Hh,) after.
 *
 * @param i      input gate, the article's "ignore": σ(W_ii x + b_ii + W_hi h + b_hi)
 * @param f      forget gate: σ(W_if x + b_if + W_hf h + b_hf)
 * @param g      candidate, the article's "learn": tanh(W_ig x + b_ig + W_hg h + b_hg)
 * @param o      output gate: σ(W_io x + b_io + W_ho h + b_ho)
 * @param kept   f ⊙ c_{t-1}, what the old memory keeps
 * @param written i ⊙ g, what is written to memory
 * @param c      c_t = f ⊙ c_{t-1} + i ⊙ g
 * @param tanhC  tanh(c_t)
 * @param hidden o ⊙ tanh(c_t), before projection
 * @param h      h_t: hidden, or W_hr hidden when projected
 */
public record StepValues(double[] x, double[] hPrev, double[] cPrev, Gate i, Gate f, Gate g, Gate o,
                         double[] kept, double[] written, double[] c, double[] tanhC, double[] hidden, double[] h) {
}
