package dev.lstm4j.trace;

import dev.lstm4j.reference.StepValues;

import java.util.function.Function;

/**
 * The stages of the reference card that a trace records for every step, in the card's order, with the names the
 * JSON, the CSV and the card page use. Immutable.
 */
public enum Stage {
    X("x", StepValues::x),
    H_PREV("h_prev", StepValues::hPrev),
    C_PREV("c_prev", StepValues::cPrev),
    I_PRE("i_pre", v -> v.i().preActivation()),
    I("i", v -> v.i().activation()),
    F_PRE("f_pre", v -> v.f().preActivation()),
    F("f", v -> v.f().activation()),
    G_PRE("g_pre", v -> v.g().preActivation()),
    G("g", v -> v.g().activation()),
    O_PRE("o_pre", v -> v.o().preActivation()),
    O("o", v -> v.o().activation()),
    /** f ⊙ c_{t-1}, what the forget gate keeps. */
    F_C_PREV("f_c_prev", StepValues::kept),
    /** i ⊙ g, what the input gate writes. */
    I_G("i_g", StepValues::written),
    C("c", StepValues::c),
    TANH_C("tanh_c", StepValues::tanhC),
    /** h before projection (the output when the model has none). */
    H("h", StepValues::hidden),
    /** h after {@code weight_hr}; only for projected models. */
    H_PROJ("h_proj", StepValues::h);

    private final String key;
    private final Function<StepValues, double[]> read;

    Stage(String key, Function<StepValues, double[]> read) {
        this.key = key;
        this.read = read;
    }

    /** The name in the trace's JSON and CSV and in the card's page data, e.g. {@code tanh_c}. */
    public String key() {
        return key;
    }

    /** This stage's values in one step (not a copy). */
    public double[] of(StepValues v) {
        return read.apply(v);
    }

    /** Whether a model without projection has this stage. */
    public boolean inUnprojected() {
        return this != H_PROJ;
    }

    /** A gate's pre-activation or activation (these sit under {@code gates} in the JSON). */
    public boolean isGate() {
        return ordinal() >= I_PRE.ordinal() && ordinal() <= O.ordinal();
    }
}
