package dev.lstm4j.reference;

/**
 * One gate's values for one step: the pre-activation z and the activation (σ(z) or tanh(z)). Both (H,).
 */
public record Gate(double[] preActivation, double[] activation) {
}
