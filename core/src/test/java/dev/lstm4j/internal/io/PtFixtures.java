package dev.lstm4j.internal.io;

import dev.lstm4j.Layout;
import dev.lstm4j.LstmState;
import dev.lstm4j.Tensor;
import dev.lstm4j.Tolerance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The torch.save / .npz fixtures written by tools/pytorch/make_pt_fixtures.py. */
final class PtFixtures {
    /** The format these tests read; a mismatch means the fixtures must be regenerated. */
    static final int FORMAT_VERSION = 1;
    static final Path ROOT = Paths.get("src", "test", "resources", "pt-fixtures");
    static final String REGENERATE = "; regenerate with /usr/bin/python3 tools/pytorch/make_pt_fixtures.py";

    private PtFixtures() {
    }

    /** One model case: the same weights in several files, and PyTorch's outputs. */
    record Case(String name, Path dir, Map<?, ?> info) {
        Tensor npy(String n) {
            return Npy.read(dir.resolve(n + ".npy"));
        }

        boolean has(String n) {
            return Files.exists(dir.resolve(n + ".npy"));
        }

        Layout layout() {
            return "seq_first".equals(info.get("layout")) ? Layout.SEQ_FIRST : Layout.BATCH_FIRST;
        }

        LstmState initialState() {
            return Boolean.TRUE.equals(info.get("initial_state")) ? new LstmState(npy("h0"), npy("c0")) : null;
        }

        ModelLoader.Options options() {
            return new ModelLoader.Options((String) info.get("prefix"), (String) info.get("head_prefix"), info.get("head_prefix") == null);
        }

        Tolerance tolerance() {
            return "float64".equals(info.get("dtype")) ? Tolerance.F64 : Tolerance.F32;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** One weights file of a case, with the --key it needs (or null). */
    record Weights(Case c, String file, String key) {
        Path path() {
            return c.dir().resolve(file);
        }

        @Override
        public String toString() {
            return c.name() + "/" + file + (key == null ? "" : " --key " + key);
        }
    }

    static Map<?, ?> json(Path p) {
        try {
            return (Map<?, ?>) Json.parse(Files.readString(p, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read fixture " + p + REGENERATE, e);
        }
    }

    static void checkVersion(Map<?, ?> m, String what) {
        assertEquals((long) FORMAT_VERSION, m.get("format_version"), what + ": fixture format_version differs" + REGENERATE);
        assertTrue(m.get("torch_version") instanceof String || m.containsKey("python_pickle_protocols"), what + ": no torch_version");
    }

    /** Every model case; fails (never skips) when the fixtures are missing. */
    static List<Case> cases() {
        Map<?, ?> manifest = json(ROOT.resolve("manifest.json"));
        checkVersion(manifest, "manifest.json");
        List<Case> cases = new ArrayList<>();
        for (Object n : (List<?>) manifest.get("cases")) {
            Path dir = ROOT.resolve((String) n);
            Map<?, ?> info = json(dir.resolve("case.json"));
            cases.add(new Case((String) n, dir, info));
        }
        assertTrue(cases.size() >= 7, "expected the full pt fixture set, manifest lists " + cases.size());
        return cases;
    }

    /** Every weights file of every case. */
    static List<Weights> weights() {
        List<Weights> all = new ArrayList<>();
        for (Case c : cases()) {
            for (Object o : (List<?>) c.info().get("weights")) {
                Map<?, ?> w = (Map<?, ?>) o;
                all.add(new Weights(c, (String) w.get("file"), (String) w.get("key")));
            }
        }
        return all;
    }

    static Case named(String name) {
        return cases().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError("no case " + name));
    }
}
