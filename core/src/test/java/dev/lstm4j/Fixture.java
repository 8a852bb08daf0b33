package dev.lstm4j;

import dev.lstm4j.internal.io.Json;
import dev.lstm4j.internal.io.ModelLoader;
import dev.lstm4j.internal.io.Npy;

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

/** One PyTorch fixture case written by tools/pytorch/make_fixtures.py. */
public record Fixture(String name, Path dir, Map<?, ?> info) {
    /** The format this test code reads; a mismatch means the fixtures must be regenerated. */
    public static final int FORMAT_VERSION = 1;
    public static final Path ROOT = Paths.get("src", "test", "resources", "fixtures");

    /** Every case in the manifest; fails (never skips) when the fixtures are missing or of another format. */
    public static List<Fixture> all() {
        Map<?, ?> manifest = json(ROOT.resolve("manifest.json"));
        checkVersion(manifest, "manifest.json");
        List<Fixture> cases = new ArrayList<>();
        for (Object n : (List<?>) manifest.get("cases")) {
            Path dir = ROOT.resolve((String) n);
            Map<?, ?> info = json(dir.resolve("case.json"));
            checkVersion(info, n + "/case.json");
            cases.add(new Fixture((String) n, dir, info));
        }
        assertTrue(cases.size() >= 20, "expected the full fixture matrix, manifest lists " + cases.size());
        return cases;
    }

    public static Fixture named(String name) {
        return all().stream().filter(f -> f.name.equals(name)).findFirst().orElseThrow(() -> new AssertionError("no fixture " + name));
    }

    private static void checkVersion(Map<?, ?> m, String what) {
        assertEquals((long) FORMAT_VERSION, m.get("format_version"), what + ": fixture format_version differs from the tests' "
                + FORMAT_VERSION + "; regenerate with /usr/bin/python3 tools/pytorch/make_fixtures.py");
        assertTrue(m.get("torch_version") instanceof String, what + ": no torch_version recorded");
    }

    static Map<?, ?> json(Path p) {
        try {
            return (Map<?, ?>) Json.parse(Files.readString(p, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read fixture " + p + "; regenerate with tools/pytorch/make_fixtures.py", e);
        }
    }

    public Path model() {
        return dir.resolve("model.safetensors");
    }

    public Tensor npy(String name) {
        return Npy.read(dir.resolve(name + ".npy"));
    }

    public boolean has(String name) {
        return Files.exists(dir.resolve(name + ".npy"));
    }

    public Layout layout() {
        return "seq_first".equals(info.get("layout")) ? Layout.SEQ_FIRST : Layout.BATCH_FIRST;
    }

    public LstmState initialState() {
        return Boolean.TRUE.equals(info.get("initial_state")) ? new LstmState(npy("h0"), npy("c0")) : null;
    }

    public ModelLoader.Options options() {
        return new ModelLoader.Options((String) info.get("prefix"), (String) info.get("head_prefix"), info.get("head_prefix") == null);
    }

    public LstmModel load() {
        return ModelLoader.load(model(), options());
    }

    public Tolerance tolerance() {
        return "float64".equals(info.get("dtype")) ? Tolerance.F64 : Tolerance.F32;
    }

    @Override
    public String toString() {
        return name;
    }
}
