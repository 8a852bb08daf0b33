package dev.lstm4j.nn;

/** The error function, which {@link Math} lacks, to double precision; and Python's way of printing a float. */
final class Erf {
    private Erf() {
    }

    /** As Python's {@code repr(float)} for the values layers print: {@code 1e-05}, {@code 0.001}. */
    static String py(double v) {
        String s = Double.toString(v);
        int e = s.indexOf('E');
        if (e < 0) {
            return s;
        }
        String mant = s.substring(0, e);
        if (mant.endsWith(".0")) {
            mant = mant.substring(0, mant.length() - 2);
        }
        int exp = Integer.parseInt(s.substring(e + 1));
        return mant + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
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
