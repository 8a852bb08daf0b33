package dev.lstm4j.trace;

import dev.lstm4j.ForwardOptions;
import dev.lstm4j.LoadOptions;
import dev.lstm4j.Lstm4j;
import dev.lstm4j.LstmModel;
import dev.lstm4j.Tensor;
import dev.lstm4j.card.Card;
import dev.lstm4j.internal.io.Json;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The trace and the card follow the whole model: readout and every head layer's output. */
class PipelineTraceTest {
    static final Path FIX = Paths.get("src", "test", "resources", "model-fixtures");

    static Trace trace(String name, String spec) {
        Path d = FIX.resolve(name);
        LstmModel m = Lstm4j.load(d.resolve("model.pt"), LoadOptions.defaults().withSpec(spec));
        Path lengths = d.resolve("lengths.npy");
        int[] lens = null;
        if (lengths.toFile().exists()) {
            double[] v = Lstm4j.readNpy(lengths).toDoubleArray();
            lens = new int[v.length];
            for (int k = 0; k < v.length; k++) {
                lens[k] = (int) v[k];
            }
        }
        return Trace.record(m, Lstm4j.readNpy(d.resolve("input.npy")), ForwardOptions.defaults().withLengths(lens), TraceFilter.ALL);
    }

    @Test
    void jsonHoldsTheReadoutAndEveryLayer() throws Exception {
        Trace t = trace("stacked_head_f32", "lstm > last > fc1 > relu > drop > fc2");
        Map<?, ?> j = (Map<?, ?>) Json.parse(TraceJson.toJson(t));
        Map<?, ?> result = (Map<?, ?>) j.get("result");
        assertEquals("lstm > last > fc1 > relu > dropout > fc2", result.get("spec"));
        assertEquals("last", ((Map<?, ?>) result.get("readout")).get("kind"));
        List<?> layers = (List<?>) result.get("layers");
        assertEquals(4, layers.size());
        assertEquals("fc2", ((Map<?, ?>) layers.get(3)).get("name"));
        // the last layer's output is the model's, which matches PyTorch
        Tensor y = Lstm4j.readNpy(FIX.resolve("stacked_head_f32").resolve("y.npy"));
        List<?> data = (List<?>) ((Map<?, ?>) ((Map<?, ?>) layers.get(3)).get("output")).get("data");
        for (int k = 0; k < y.elementCount(); k++) {
            assertEquals(y.at(k), ((Number) data.get(k)).doubleValue(), 1e-5);
        }
        // relu really is max(0, fc1)
        List<?> fc1 = (List<?>) ((Map<?, ?>) ((Map<?, ?>) layers.get(0)).get("output")).get("data");
        List<?> relu = (List<?>) ((Map<?, ?>) ((Map<?, ?>) layers.get(1)).get("output")).get("data");
        for (int k = 0; k < fc1.size(); k++) {
            assertEquals(Math.max(0, ((Number) fc1.get(k)).doubleValue()), ((Number) relu.get(k)).doubleValue());
        }
    }

    @Test
    void csvAndReportShowThePooledModel() throws Exception {
        Trace t = trace("emb_bi_mean_packed_f32", "emb > lstm > mean > fc");
        StringWriter w = new StringWriter();
        TraceCsv.write(w, t);
        String csv = w.toString();
        assertTrue(csv.contains("\nhead,,2,,readout:mean,9,"), "readout rows");
        assertTrue(csv.contains("\nhead,,0,,fc,2,"), "fc rows");
        StringWriter r = new StringWriter();
        TraceReport.write(t, new PrintWriter(r));
        String text = r.toString();
        assertTrue(text.contains("batch 1 · model 'emb > lstm > mean > fc'") && text.contains("readout mean"), text);
        String page = Card.html(t, "mean", "emb > lstm > mean > fc");
        assertTrue(page.contains("\"spec\":\"emb > lstm > mean > fc\"") && page.contains("\"per_step\":false"), "card data");
    }

    @Test
    void aPerStepModelIsTracedPerStep() throws Exception {
        Trace t = trace("emb_tagger_f32", "emb > lstm > all > fc > logsoftmax");
        StringWriter r = new StringWriter();
        TraceReport.write(t, new PrintWriter(r));
        assertTrue(r.toString().contains("logsoftmax") && r.toString().contains("LogSoftmax(dim=-1)"), r.toString());
        String page = Card.html(t, "tagger", "");
        assertTrue(page.contains("\"per_step\":true"), "card data");
    }
}
