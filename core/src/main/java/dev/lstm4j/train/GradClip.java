package dev.lstm4j.train;

import dev.lstm4j.internal.Validate;

import java.util.List;

/** {@code torch.nn.utils.clip_grad_norm_} and {@code clip_grad_value_}, on parameters' gradients in place. */
public final class GradClip {
    private GradClip() {
    }

    /**
     * {@code clip_grad_norm_(params, max_norm, norm_type)}: the total norm is the norm of the per-parameter norms; every
     * gradient is multiplied by {@code min(1, max_norm / (total + 1e-6))}.
     *
     * @param normType a p ≥ 1, or {@code Double.POSITIVE_INFINITY} for the max norm
     * @return the total norm before clipping
     */
    public static double clipGradNorm(List<Parameter> params, double maxNorm, double normType) {
        if (!(maxNorm > 0 && normType >= 1)) {
            // the messages are built only on failure: a training step builds none
            Validate.input(maxNorm > 0, "clip_grad_norm_: max_norm must be positive, got " + maxNorm);
            Validate.input(normType >= 1, "clip_grad_norm_: norm_type must be >= 1 or infinity, got " + normType);
        }
        double total = 0;
        boolean inf = Double.isInfinite(normType);
        for (int q = 0; q < params.size(); q++) {
            double norm = 0;
            for (double g : params.get(q).grad()) {
                norm = inf ? Math.max(norm, Math.abs(g)) : norm + Math.pow(Math.abs(g), normType);
            }
            if (inf) {
                total = Math.max(total, norm);
            } else {
                total += Math.pow(Math.pow(norm, 1 / normType), normType);
            }
        }
        if (!inf) {
            total = Math.pow(total, 1 / normType);
        }
        double coef = Math.min(1.0, maxNorm / (total + 1e-6));
        for (int q = 0; q < params.size(); q++) {
            double[] g = params.get(q).grad();
            for (int k = 0; k < g.length; k++) {
                g[k] *= coef;
            }
        }
        return total;
    }

    /** {@code clip_grad_value_(params, clip)}: every gradient entry clamped to [−clip, clip]. */
    public static void clipGradValue(List<Parameter> params, double clip) {
        if (!(clip >= 0)) {
            Validate.input(false, "clip_grad_value_: clip_value must be >= 0, got " + clip);
        }
        for (int q = 0; q < params.size(); q++) {
            double[] g = params.get(q).grad();
            for (int k = 0; k < g.length; k++) {
                g[k] = Math.max(-clip, Math.min(clip, g[k]));
            }
        }
    }
}
