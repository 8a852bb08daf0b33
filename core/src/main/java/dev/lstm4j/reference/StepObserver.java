package dev.lstm4j.reference;

/** Receives every step the reference path computes; for traces. Called in computation order. */
@FunctionalInterface
public interface StepObserver {
    /**
     * @param layer     0-based layer
     * @param direction 0 forward, 1 reverse
     * @param batch     row in the batch
     * @param step      time index in the input sequence (the reverse direction visits T-1 down to 0)
     */
    void onStep(int layer, int direction, int batch, int step, StepValues values);
}
