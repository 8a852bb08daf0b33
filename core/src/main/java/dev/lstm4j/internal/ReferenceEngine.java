package dev.lstm4j.internal;

import dev.lstm4j.LstmOutput;
import dev.lstm4j.Tensor;
import dev.lstm4j.reference.ReferenceLstm;

/** The reference path as an {@link LstmEngine}, so the engine interface stays out of the public API. */
public final class ReferenceEngine implements LstmEngine {
    private final ReferenceLstm reference;

    public ReferenceEngine(ReferenceLstm reference) {
        this.reference = reference;
    }

    public ReferenceLstm reference() {
        return reference;
    }

    @Override
    public LstmOutput forward(Tensor x, Tensor h0, Tensor c0) {
        return reference.forward(x, h0, c0, null, null);
    }

    @Override
    public LstmOutput forwardPacked(Tensor x, Tensor h0, Tensor c0, int[] lengths) {
        return reference.forward(x, h0, c0, lengths, null);
    }

    @Override
    public String toString() {
        return "reference";
    }
}
