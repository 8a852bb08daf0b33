package dev.lstm4j.nn;

/** The error function, which {@link Math} lacks, to double precision. */
final class Erf {
    private Erf() {
    }

    /**
     * erf(x) = 2/√π · e^(−x²) · Σ_{n≥0} 2^n x^(2n+1) / (1·3·5···(2n+1)): every term positive, so no cancellation;
     * |erf(x)| rounds to 1 beyond |x| = 6.
     */
    static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double a = Math.abs(x);
        if (a >= 6) {
            return Math.copySign(1.0, x);
        }
        double term = a;
        double sum = a;
        double x2 = a * a;
        for (int n = 1; n < 400; n++) {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
            if (term < 1e-17 * sum) {
                break;
            }
        }
        double r = 2 / Math.sqrt(Math.PI) * Math.exp(-x2) * sum;
        return Math.copySign(Math.min(1.0, r), x);
    }
}
