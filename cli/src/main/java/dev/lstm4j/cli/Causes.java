package dev.lstm4j.cli;

/** Keeps the cause when one exception is re-thrown as another that has no constructor taking a cause. */
final class Causes {
    private Causes() {
    }

    /** {@code ex} with {@code cause} as its cause, for {@code throw Causes.keep(new InputException(...), e)}. */
    static <T extends Throwable> T keep(T ex, Throwable cause) {
        if (ex.getCause() == null && cause != null && cause != ex) {
            ex.initCause(cause);
        }
        return ex;
    }
}
