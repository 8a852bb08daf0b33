package dev.lstm4j.reference;

import dev.lstm4j.reference.ReferenceBackward.StepBackward;

/** Step backwards with one derivative wrong, built from the real equations, to prove the checks can fail. */
final class BrokenSteps {
    private BrokenSteps() {
    }

    /** As {@link ReferenceBackward#stepBackward}, but the forget gate uses σ′ = f instead of f ⊙ (1 − f). */
    static final StepBackward FORGET_SIGMOID_WITHOUT_ONE_MINUS = (w, v, dH, dC, grads, dX, dHPrev, dCPrev) -> {
        int hs = w.hiddenSize();
        double[] dHidden = dH;
        if (w.weightHr() != null) {
            dHidden = new double[hs];
            ReferenceBackward.projectBackward(w, v.hidden(), dH, grads.dWeightHr(), dHidden);
        }
        double[] dO = new double[hs];
        double[] dCt = dC.clone();
        ReferenceBackward.nextHiddenBackward(dHidden, v.o().activation(), v.tanhC(), dO, dCt);
        double[] dI = new double[hs], dF = new double[hs], dG = new double[hs];
        ReferenceBackward.nextCellBackward(dCt, v.i().activation(), v.f().activation(), v.g().activation(), v.cPrev(), dI, dF, dG, dCPrev);
        double[] dZ = new double[4 * hs];
        ReferenceBackward.sigmoidBackward(dI, v.i().activation(), dZ, ReferenceLstm.I * hs);
        for (int k = 0; k < hs; k++) {
            dZ[ReferenceLstm.F * hs + k] += dF[k] * v.f().activation()[k]; // wrong: missing (1 − f)
        }
        ReferenceBackward.tanhBackward(dG, v.g().activation(), dZ, ReferenceLstm.G * hs);
        ReferenceBackward.sigmoidBackward(dO, v.o().activation(), dZ, ReferenceLstm.O * hs);
        ReferenceBackward.preActivationBackward(w, dZ, v.x(), v.hPrev(), grads, dX, dHPrev);
        return new StepGrads(dH, dC, dHidden, dCt, dO, dI, dF, dG, dZ, dX, dHPrev, dCPrev);
    };
}
