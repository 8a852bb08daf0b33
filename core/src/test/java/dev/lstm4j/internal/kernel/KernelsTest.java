package dev.lstm4j.internal.kernel;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The provider's decision, every branch, without starting a second JVM. */
class KernelsTest {
    @Test
    void vectorWhenTheModuleIsReadableAndNothingIsForced() {
        assertEquals(Kernels.Choice.VECTOR, Kernels.decide(null, true));
        assertEquals(Kernels.Choice.VECTOR, Kernels.decide(" Vector ", true));
    }

    @Test
    void scalarWithAWarningWhenTheModuleIsAbsent() {
        assertEquals(Kernels.Choice.SCALAR_NO_MODULE, Kernels.decide(null, false));
        assertEquals(Kernels.Choice.SCALAR_NO_MODULE, Kernels.decide("", false));
    }

    @Test
    void scalarWhenForced() {
        assertEquals(Kernels.Choice.SCALAR_FORCED, Kernels.decide("scalar", true));
        assertEquals(Kernels.Choice.SCALAR_FORCED, Kernels.decide("SCALAR", false));
    }

    @Test
    void forcingVectorWithoutTheModuleNamesTheFlag() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Kernels.decide("vector", false));
        assertTrue(e.getMessage().contains("--add-modules jdk.incubator.vector"), e.getMessage());
    }

    @Test
    void unknownValueIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Kernels.decide("simd", true));
        assertTrue(e.getMessage().contains("expected scalar or vector"), e.getMessage());
    }

    @Test
    void thisJvmChoosesVectorKernels() {
        // surefire passes --add-modules jdk.incubator.vector and no -Dlstm4j.kernels
        assertTrue(Kernels.get().name().startsWith("vector"), Kernels.get().name());
    }
}
