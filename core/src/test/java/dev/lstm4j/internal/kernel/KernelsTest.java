package dev.lstm4j.internal.kernel;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The provider's decision, every branch, without starting a second JVM. */
class KernelsTest {
    @Test
    void vectorWhenTheModuleIsReadableAndNothingIsForced() {
        assertEquals(Kernels.Choice.VECTOR, Kernels.decide(null, true).choice());
        assertEquals(Kernels.Choice.VECTOR, Kernels.decide(" Vector ", true).choice());
    }

    @Test
    void scalarWithAWarningWhenTheModuleIsAbsent() {
        assertEquals(Kernels.Choice.SCALAR_NO_MODULE, Kernels.decide(null, false).choice());
        assertEquals(Kernels.Choice.SCALAR_NO_MODULE, Kernels.decide("", false).choice());
    }

    @Test
    void scalarWhenForced() {
        assertEquals(Kernels.Choice.SCALAR_FORCED, Kernels.decide("scalar", true).choice());
        assertEquals(Kernels.Choice.SCALAR_FORCED, Kernels.decide("SCALAR", false).choice());
    }

    @Test
    void forcingVectorWithoutTheModuleWarnsNamesTheFlagAndRunsScalar() {
        Kernels.Decision d = Kernels.decide("vector", false);
        assertEquals(Kernels.Choice.SCALAR_NO_MODULE, d.choice());
        assertTrue(d.warning().contains("--add-modules jdk.incubator.vector"), d.warning());
    }

    @Test
    void unknownValueWarnsAndFallsBackToTheDefault() {
        Kernels.Decision d = Kernels.decide("simd", true);
        assertEquals(Kernels.Choice.VECTOR, d.choice());
        assertTrue(d.warning().contains("expected scalar or vector"), d.warning());
        assertEquals(Kernels.Choice.SCALAR_NO_MODULE, Kernels.decide("simd", false).choice());
    }

    @Test
    void noWarningForValidValues() {
        assertEquals(null, Kernels.decide("scalar", true).warning());
        assertEquals(null, Kernels.decide("vector", true).warning());
        assertEquals(null, Kernels.decide(null, true).warning());
    }

    @Test
    void aBadPropertyInAFreshJvmWarnsOnceAndRuns() throws Exception {
        String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "-Dlstm4j.kernels=bogus", "-cp", System.getProperty("java.class.path"),
                BadPropertyMain.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("ran on the fast path"), out);
        int warnings = out.split("ignoring -Dlstm4j.kernels=bogus", -1).length - 1;
        assertEquals(1, warnings, "expected exactly one warning:\n" + out);
        assertTrue(!out.contains("Exception"), out);
    }

    @Test
    void thisJvmChoosesVectorKernels() {
        // surefire passes --add-modules jdk.incubator.vector and no -Dlstm4j.kernels
        assertTrue(Kernels.get().name().startsWith("vector"), Kernels.get().name());
    }
}
