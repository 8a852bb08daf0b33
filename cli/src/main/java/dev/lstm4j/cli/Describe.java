package dev.lstm4j.cli;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmModel;
import dev.lstm4j.Tensor;

import dev.lstm4j.Readout;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Human-readable text for models and vectors, shared by the commands. */
final class Describe {
    private Describe() {
    }

    /** The model in one line; the prefixes come from the file's tensor names, so they are escaped. */
    static String model(LstmModel m) {
        LstmConfig c = m.lstm().config();
        StringBuilder b = new StringBuilder();
        b.append(m.cell() ? "LSTMCell(input_size=" + c.inputSize() + ", hidden_size=" + c.hiddenSize() + (c.bias() ? "" : ", bias=False") + ")"
                : c.toString());
        b.append(" at prefix '").append(Text.oneLine(m.prefix())).append('\'');
        if (m.head() != null) {
            b.append(" + Linear(in_features=").append(m.head().inFeatures()).append(", out_features=").append(m.head().outFeatures())
                    .append(m.head().bias() == null ? ", bias=False" : "").append(") at prefix '").append(Text.oneLine(m.headPrefix())).append('\'');
        }
        b.append(", computing in ").append(m.lstm().precision().dtype().torchName());
        if (m.head() == null && !m.layers().isEmpty() || m.embedding() != null || m.readout() != Readout.ALL) {
            b.append(", model '").append(Text.oneLine(m.spec().toString())).append('\'');
        }
        return b.toString();
    }

    /** One line per stage: name, then PyTorch's repr of it. */
    static List<String> pipeline(LstmModel m) {
        List<String> l = new ArrayList<>();
        if (m.embedding() != null) {
            l.add(m.spec().embedding() + ": " + m.embedding().describe());
        }
        l.add(m.spec().lstm() + ": " + (m.cell() ? "LSTMCell" : m.lstm().config().toString()));
        l.add(m.readout().keyword() + ": " + m.readout().torch());
        for (int k = 0; k < m.layers().size(); k++) {
            l.add(m.spec().head().get(k) + ": " + m.layers().get(k).describe());
        }
        return l;
    }

    static String vector(double[] v) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            if (i > 0) {
                b.append(", ");
            }
            b.append(String.format(Locale.ROOT, "%10.6f", v[i]));
        }
        return b.append(']').toString();
    }

    static String shape(Tensor t) {
        return Tensor.shapeString(t.shape());
    }
}
