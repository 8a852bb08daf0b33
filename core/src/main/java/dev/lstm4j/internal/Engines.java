package dev.lstm4j.internal;

import dev.lstm4j.CellWeights;
import dev.lstm4j.EngineChoice;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import dev.lstm4j.internal.kernel.FastLstm;
import dev.lstm4j.reference.ReferenceLstm;

import java.util.List;
import java.util.function.Supplier;

/**
 * Decides which engine runs a model, and owns every fallback rule: float32 models on the fast path, unless the
 * reference path is asked for, the model is float64 (computed in double), or its g rows cannot be packed doubled.
 */
public final class Engines {
    private Engines() {
    }

    /** Whether {@code choice} gives the fast path for these weights. */
    public static boolean fast(EngineChoice choice, Precision precision, List<CellWeights> cells) {
        return choice == EngineChoice.FAST && precision == Precision.F32 && FastLstm.supports(cells);
    }

    /** The engine for these weights; {@code reference} builds the reference path when that is the one chosen. */
    public static LstmEngine create(LstmConfig config, List<CellWeights> cells, Precision precision, EngineChoice choice,
                                    Supplier<ReferenceLstm> reference) {
        return fast(choice, precision, cells) ? new FastLstm(config, cells) : new ReferenceEngine(reference.get());
    }
}
