package dev.lstm4j.internal;

import dev.lstm4j.CellWeights;
import dev.lstm4j.DType;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Checks that a list of cells makes the LSTM a config describes, with PyTorch's tensor names in every message. */
public final class LstmChecks {
    private LstmChecks() {
    }

    /**
     * Checks every cell against the config, naming tensors as PyTorch does ({@code prefix + "weight_ih_l0"}).
     *
     * @throws ModelException on the first mismatch
     */
    public static void validate(LstmConfig config, List<CellWeights> cells, String keyPrefix) {
        int d = config.directions();
        Validate.model(cells.size() == config.numLayers() * d, "expected " + config.numLayers() * d
                + " cells (num_layers * directions), got " + cells.size());
        int h4 = 4 * config.hiddenSize();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (int dir = 0; dir < d; dir++) {
                CellWeights w = cells.get(layer * d + dir);
                String sfx = LstmConfig.suffix(layer, dir);
                int in = config.layerInputSize(layer);
                String inMeaning = layer == 0 ? "input=" + in : "D*" + (config.projSize() > 0 ? "proj" : "hidden") + "=" + in;
                Validate.shape(keyPrefix + "weight_ih_" + sfx, w.weightIh(), "(4*hidden=" + h4 + ", " + inMeaning + ")", h4, in);
                Validate.shape(keyPrefix + "weight_hh_" + sfx, w.weightHh(), "(4*hidden=" + h4 + ", "
                        + (config.projSize() > 0 ? "proj" : "hidden") + "=" + config.outputHiddenSize() + ")", h4, config.outputHiddenSize());
                Validate.model(w.hasBias() == config.bias(), keyPrefix + "bias_ih_" + sfx + ": "
                        + (config.bias() ? "missing, but the model has bias=True" : "present, but the model has bias=False"));
                if (w.hasBias()) {
                    Validate.shape(keyPrefix + "bias_ih_" + sfx, w.biasIh(), "(4*hidden=" + h4 + ",)", h4);
                    Validate.shape(keyPrefix + "bias_hh_" + sfx, w.biasHh(), "(4*hidden=" + h4 + ",)", h4);
                }
                Validate.model(w.hasProjection() == (config.projSize() > 0), keyPrefix + "weight_hr_" + sfx + ": "
                        + (config.projSize() > 0 ? "missing, but proj_size=" + config.projSize() : "present, but the model has no projection"));
                if (w.hasProjection()) {
                    Validate.shape(keyPrefix + "weight_hr_" + sfx, w.weightHr(), "(proj=" + config.projSize() + ", hidden="
                            + config.hiddenSize() + ")", config.projSize(), config.hiddenSize());
                }
            }
        }
    }

    /** F64 when every tensor is float64, F32 when none is; mixed float64 and other dtypes is refused. */
    public static Precision precisionOf(List<CellWeights> cells, String keyPrefix) {
        Set<DType> seen = EnumSet.noneOf(DType.class);
        for (CellWeights w : cells) {
            for (Tensor t : new Tensor[] {w.weightIh(), w.weightHh(), w.biasIh(), w.biasHh(), w.weightHr()}) {
                if (t != null) {
                    Validate.model(t.dtype().isFloat(), keyPrefix + "*: weights must be float16, bfloat16, float32 or float64, found "
                            + t.dtype().torchName());
                    seen.add(t.dtype());
                }
            }
        }
        if (seen.contains(DType.F64)) {
            Validate.model(seen.size() == 1, keyPrefix + "*: tensors mix float64 with " + seen + "; save every tensor in one dtype"
                    + " (model.double() or model.float() before saving)");
            return Precision.F64;
        }
        return Precision.F32;
    }
}
