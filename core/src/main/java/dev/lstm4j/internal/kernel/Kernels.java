package dev.lstm4j.internal.kernel;

import java.lang.System.Logger.Level;
import java.util.Locale;

/**
 * Chooses the kernels once, at first use, like Lucene's {@code VectorizationProvider}: the Vector API
 * implementation when {@code jdk.incubator.vector} is readable, else the scalar one with one warning naming
 * the flag. {@code -Dlstm4j.kernels=scalar|vector} forces the choice. The vector class is loaded by name,
 * so a JVM without the module never loads a class that mentions it. {@code -Dlstm4j.kernels=warming} (which
 * {@code bin/lstm4j} passes: a one-shot run) starts the vector kernels on the scalar ones until they are compiled
 * ({@link WarmingKernels}).
 */
public final class Kernels {
    /** System property that forces the choice: {@code scalar} or {@code vector}, or {@code warming} (see above). */
    public static final String PROPERTY = "lstm4j.kernels";
    static final String VECTOR_CLASS = "dev.lstm4j.internal.kernel.VectorKernels";
    static final String FLAG = "--add-modules jdk.incubator.vector";
    private static final System.Logger LOG = System.getLogger(Kernels.class.getName());

    private Kernels() {
    }

    private static final class Holder {
        static final LstmKernels INSTANCE = select();
    }

    /** The kernels chosen for this JVM. */
    public static LstmKernels get() {
        return Holder.INSTANCE;
    }

    /** The scalar kernels, whatever was chosen. */
    public static LstmKernels scalar() {
        return new ScalarKernels();
    }

    /**
     * The Vector API kernels.
     *
     * @throws UnsupportedOperationException when {@code jdk.incubator.vector} is not readable
     */
    public static LstmKernels vector() {
        if (!vectorModuleReadable()) {
            throw new UnsupportedOperationException("the Vector API is not available: run java with " + FLAG);
        }
        try {
            return (LstmKernels) Class.forName(VECTOR_CLASS).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IllegalStateException("cannot load " + VECTOR_CLASS + ": " + e, e);
        }
    }

    /** The Vector API kernels with a main tile of {@code tileRows} rows (4, 6 or 8), whatever this machine's default. */
    static LstmKernels vector(int tileRows) {
        if (!vectorModuleReadable()) {
            throw new UnsupportedOperationException("the Vector API is not available: run java with " + FLAG);
        }
        try {
            return (LstmKernels) Class.forName(VECTOR_CLASS).getDeclaredConstructor(int.class).newInstance(tileRows);
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IllegalStateException("cannot load " + VECTOR_CLASS + ": " + e, e);
        }
    }

    /** Whether this code's module can read {@code jdk.incubator.vector} (the class path's unnamed module reads every boot module). */
    public static boolean vectorModuleReadable() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector")
                .map(m -> Kernels.class.getModule().canRead(m))
                .orElse(false);
    }

    /** What {@link #select} decides, as data, so tests can check every branch without a second JVM. */
    enum Choice { SCALAR_FORCED, VECTOR, SCALAR_NO_MODULE }

    /**
     * The choice, and a warning to log once when the property asks for something this JVM cannot do (a bad value,
     * or vector without the module): then the default is used, as Lucene's provider does.
     *
     * @param forced the property's value, or null
     */
    static Decision decide(String forced, boolean moduleReadable) {
        String f = forced == null ? "" : forced.trim().toLowerCase(Locale.ROOT);
        Choice fallback = moduleReadable ? Choice.VECTOR : Choice.SCALAR_NO_MODULE;
        switch (f) {
            case "scalar":
                return new Decision(Choice.SCALAR_FORCED, null);
            case "vector":
                if (!moduleReadable) {
                    return new Decision(Choice.SCALAR_NO_MODULE, "lstm4j: -D" + PROPERTY + "=vector, but jdk.incubator.vector is not"
                            + " readable, so the fast path uses scalar kernels; run java with " + FLAG);
                }
                return new Decision(Choice.VECTOR, null);
            case "":
                return new Decision(fallback, null);
            default:
                return new Decision(fallback, "lstm4j: ignoring -D" + PROPERTY + "=" + forced + " (expected scalar or vector); using "
                        + (fallback == Choice.VECTOR ? "vector" : "scalar") + " kernels");
        }
    }

    /** A choice and the warning that goes with it, or null. */
    record Decision(Choice choice, String warning) {
    }

    private static LstmKernels select() {
        Decision decision;
        boolean warming = false;
        try {
            String property = System.getProperty(PROPERTY);
            warming = property != null && property.trim().equalsIgnoreCase("warming");
            decision = decide(warming ? null : property, vectorModuleReadable());
        } catch (SecurityException e) {
            decision = new Decision(Choice.SCALAR_NO_MODULE, "lstm4j: cannot read -D" + PROPERTY + " (" + e.getMessage() + "); using scalar kernels");
        }
        Choice choice = decision.choice();
        LstmKernels k;
        if (decision.warning() != null) {
            LOG.log(Level.WARNING, decision.warning());
        }
        switch (choice) {
            case VECTOR:
                try {
                    // -Dlstm4j.kernels=warming: on the scalar kernels until the vector ones are compiled (see WarmingKernels)
                    k = warming ? new WarmingKernels(vector(), scalar()) : vector();
                } catch (RuntimeException | LinkageError e) {
                    LOG.log(Level.WARNING, "lstm4j: cannot load the Vector API kernels (" + e + "); using scalar kernels");
                    k = scalar();
                }
                break;
            case SCALAR_NO_MODULE:
                if (decision.warning() == null) {
                    LOG.log(Level.WARNING, "lstm4j: the Vector API (jdk.incubator.vector) is not available, so the fast path uses "
                            + "scalar kernels; pass " + FLAG + " to java for the SIMD kernels");
                }
                k = scalar();
                break;
            default:
                k = scalar();
        }
        LOG.log(Level.DEBUG, "lstm4j: using " + k.name() + " kernels (" + choice + ")");
        return k;
    }
}
