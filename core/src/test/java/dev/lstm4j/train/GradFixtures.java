package dev.lstm4j.train;

import dev.lstm4j.DType;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.io.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Reads the files tools/pytorch/make_grad_fixtures.py writes; fails (never skips) when they are missing or stale. */
final class GradFixtures {
    static final int FORMAT_VERSION = 1;
    static final Path ROOT = Paths.get("src", "test", "resources", "grad-fixtures");

    private GradFixtures() {
    }

    static List<Map<?, ?>> cases(String file) {
        Map<?, ?> doc;
        try {
            doc = (Map<?, ?>) Json.parse(Files.readString(ROOT.resolve(file), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(file + " is missing; generate it with /usr/bin/python3 tools/pytorch/make_grad_fixtures.py", e);
        }
        assertEquals((long) FORMAT_VERSION, doc.get("format_version"), file + ": format_version differs from the tests' "
                + FORMAT_VERSION + "; regenerate with /usr/bin/python3 tools/pytorch/make_grad_fixtures.py");
        assertTrue(doc.get("torch_version") instanceof String, file + ": no torch_version recorded");
        @SuppressWarnings("unchecked")
        List<Map<?, ?>> cases = (List<Map<?, ?>>) doc.get("cases");
        assertTrue(cases != null && !cases.isEmpty(), file + ": no cases");
        return cases;
    }

    /** A {"shape", "data"} record's values, or null for JSON null. */
    static double[] data(Object rec) {
        if (rec == null) {
            return null;
        }
        List<?> d = (List<?>) ((Map<?, ?>) rec).get("data");
        double[] v = new double[d.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = ((Number) d.get(i)).doubleValue();
        }
        return v;
    }

    static int[] shape(Object rec) {
        List<?> s = (List<?>) ((Map<?, ?>) rec).get("shape");
        return s.stream().mapToInt(o -> ((Number) o).intValue()).toArray();
    }

    static Tensor tensor(Object rec, DType dtype) {
        return Tensor.of(dtype, shape(rec), data(rec));
    }

    static Map<String, Tensor> stateDict(Object rec, DType dtype) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        ((Map<?, ?>) rec).forEach((k, v) -> m.put((String) k, tensor(v, dtype)));
        return m;
    }

    static LstmConfig config(Map<?, ?> c) {
        return new LstmConfig(i(c, "input_size"), i(c, "hidden"), i(c, "layers"), (Boolean) c.get("bidir"), i(c, "proj"), (Boolean) c.get("bias"));
    }

    static int i(Map<?, ?> m, String key) {
        return ((Number) m.get(key)).intValue();
    }

    static double d(Map<?, ?> m, String key) {
        return ((Number) m.get(key)).doubleValue();
    }

    static Precision precision(Map<?, ?> c) {
        String dt = (String) c.get("dtype");
        return dt == null || dt.equals("float64") ? Precision.F64 : Precision.F32;
    }

    /** A model with the fixture's weights. */
    static TrainableLstm model(Map<?, ?> c, Precision p) {
        Map<?, ?> cfg = (Map<?, ?>) c.get("config");
        return TrainableLstm.fromStateDict(config(cfg), i(cfg, "head_out"), 0, p, stateDict(c.get("state_dict"), p.dtype()));
    }

    /**
     * Element-wise check, {@code |a − e| ≤ rel · max(1, |e|)}, reporting the largest difference and the first failing
     * index, like llm.c's check_tensor. Returns the largest relative-to-max(1,|e|) difference.
     */
    static double check(String label, double[] expected, double[] actual, double rel) {
        assertEquals(expected.length, actual.length, label + ": length");
        double worst = 0;
        int firstBad = -1;
        for (int k = 0; k < expected.length; k++) {
            double r = Math.abs(actual[k] - expected[k]) / Math.max(1, Math.abs(expected[k]));
            if (!(r <= rel) && firstBad < 0) {
                firstBad = k;
            }
            worst = Math.max(worst, r);
        }
        if (firstBad >= 0) {
            fail(label + ": max relative |Δ| = " + worst + " > " + rel + "; first failure at flat index " + firstBad + ": expected "
                    + expected[firstBad] + ", got " + actual[firstBad]);
        }
        return worst;
    }
}
