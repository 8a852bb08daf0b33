package dev.lstm4j.reference;

/** Broken step backwards for tests outside this package. */
public final class TestSteps {
    private TestSteps() {
    }

    /** {@link ReferenceBackward#stepBackward} with σ′ = f instead of f ⊙ (1 − f) on the forget gate. */
    public static final ReferenceBackward.StepBackward BROKEN_FORGET_SIGMOID = BrokenSteps.FORGET_SIGMOID_WITHOUT_ONE_MINUS;
}
