package dev.lstm4j;

import dev.lstm4j.internal.Validate;

/**
 * The weights of one layer and direction, in PyTorch's layout. Gate row blocks are in the order i, f, g, o.
 *
 * <p>Shapes (legend: H hidden, P projection, I_l layer input, Hh = P if projected else H):
 * <pre>
 * weightIh: (4H, I_l)  rows [W_ii | W_if | W_ig | W_io]     weight_ih_l{k}
 * weightHh: (4H, Hh)   rows [W_hi | W_hf | W_hg | W_ho]     weight_hh_l{k}
 * biasIh:   (4H,)      or null when bias=False              bias_ih_l{k}
 * biasHh:   (4H,)      or null when bias=False              bias_hh_l{k}
 * weightHr: (P, H)     or null without projection           weight_hr_l{k}
 * </pre>
 */
public record CellWeights(Tensor weightIh, Tensor weightHh, Tensor biasIh, Tensor biasHh, Tensor weightHr) {
    public CellWeights {
        Validate.model(weightIh != null && weightHh != null, "weightIh and weightHh are required");
        Validate.model((biasIh == null) == (biasHh == null), "give both biases or neither");
    }

    public boolean hasBias() {
        return biasIh != null;
    }

    public boolean hasProjection() {
        return weightHr != null;
    }
}
