package dev.lstm4j;

/** Which path an {@link Lstm} computes with. */
public enum EngineChoice {
    /**
     * The fast path ({@link dev.lstm4j.internal.kernel.FastLstm}) for float32 models; float64 models, and calls with a
     * step observer, use the reference path.
     */
    FAST,
    /** The readable reference path ({@link dev.lstm4j.reference.ReferenceLstm}), one method per equation. */
    REFERENCE
}
