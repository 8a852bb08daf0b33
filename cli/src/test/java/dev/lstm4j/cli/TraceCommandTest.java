package dev.lstm4j.cli;

import dev.lstm4j.ForwardOptions;
import dev.lstm4j.Layout;
import dev.lstm4j.LstmModel;
import dev.lstm4j.Tensor;
import dev.lstm4j.Tolerance;
import dev.lstm4j.internal.io.Json;
import dev.lstm4j.internal.io.ModelLoader;
import dev.lstm4j.internal.io.Npy;
import dev.lstm4j.reference.StepValues;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceCommandTest {
    @TempDir
    Path tmp;

    @Test
    void traceShowsEveryStageOfTheDemoWithItsValues() throws Exception {
        try (DemoFiles demo = new DemoFiles()) {
            Cli r = Cli.run("trace", "--weights", demo.resolve("model.safetensors").toString(), "--input", demo.resolve("input.npy").toString());
            assertEquals(0, r.code(), r.toString());
            LstmModel m = ModelLoader.load(demo.resolve("model.safetensors"), ModelLoader.Options.DEFAULT);
            List<StepValues> steps = new ArrayList<>();
            m.forward(Npy.read(demo.resolve("input.npy")), ForwardOptions.defaults().withObserver((l, d, b, t, v) -> steps.add(v)));
            assertEquals(3, steps.size());
            for (int t = 0; t < 3; t++) {
                assertTrue(r.out().contains("── batch 0 · step t=" + t + " · layer 0 "), r.out());
                String block = r.out().substring(r.out().indexOf("step t=" + t));
                StepValues v = steps.get(t);
                for (double[] stage : new double[][] {v.f().preActivation(), v.f().activation(), v.i().activation(), v.g().activation(),
                        v.o().activation(), v.kept(), v.written(), v.c(), v.tanhC(), v.h()}) {
                    StringBuilder values = new StringBuilder();
                    for (double x : stage) {
                        values.append(String.format(java.util.Locale.ROOT, "%12.6f", x));
                    }
                    assertTrue(block.contains("(3,)   " + values), "step " + t + " lacks " + values + "\n" + r.out());
                }
            }
            // the head's output, PyTorch's, is shown after the last layer of each step
            Tensor head = Npy.read(demo.resolve("head.npy"));
            assertTrue(r.out().contains(String.format(java.util.Locale.ROOT, "%12.6f", head.get(0, 2, 0))), r.out());
        }
    }

    @Test
    void filtersJsonAndCsv() throws Exception {
        Path dir = fixture("packed_layers2_bidir_proj_state");
        Path json = tmp.resolve("t.json"), csv = tmp.resolve("t.csv");
        Cli r = Cli.run("trace", "--weights", dir.resolve("model.safetensors").toString(), "--input", dir.resolve("input.npy").toString(),
                "--h0", dir.resolve("h0.npy").toString(), "--c0", dir.resolve("c0.npy").toString(), "--lengths", "7,3,5,1,6",
                "--step", "0..1,6", "--layer", "1", "--direction", "reverse", "--batch", "1,4", "--json", json.toString(), "--csv", csv.toString());
        assertEquals(0, r.code(), r.toString());
        // row 1 has length 3: steps 0 and 1 only; row 4 has length 6: steps 0 and 1 (step 6 is padding)
        assertEquals(4, r.out().split("── batch ", -1).length - 1, r.out());
        assertTrue(r.out().contains("lengths [7, 3, 5, 1, 6]"), r.out());
        assertTrue(r.err().contains("wrote 4 step records to " + json + ", " + csv), r.err());
        Map<?, ?> root = (Map<?, ?>) Json.parse(Files.readString(json));
        List<?> records = (List<?>) root.get("records");
        assertEquals(4, records.size());
        for (Object o : records) {
            Map<?, ?> rec = (Map<?, ?>) o;
            assertEquals(1L, rec.get("layer"));
            assertEquals(1L, rec.get("direction"));
            assertEquals(3, ((List<?>) rec.get("h_proj")).size());
        }
        // the last record's projected h is PyTorch's output at (row 4, step 1, reverse half)
        Map<?, ?> last = (Map<?, ?>) records.get(3);
        assertEquals(List.of(4L, 1L), List.of(last.get("batch"), last.get("step")));
        Tensor expected = Npy.read(dir.resolve("output.npy"));
        List<?> h = (List<?>) last.get("h_proj");
        for (int k = 0; k < 3; k++) {
            double e = expected.get(4, 1, 3 + k), got = ((Number) h.get(k)).doubleValue();
            assertTrue(Tolerance.F32.accepts(e, got), "h_proj[" + k + "]: PyTorch " + e + ", trace " + got);
        }
        List<String> lines = Files.readAllLines(csv);
        assertEquals("layer,direction,batch,step,name,index,value", lines.get(0));
        // the cell's rows, then the head's output (2 features) at the same 4 (row, step) pairs, padding left out
        assertEquals(4 * (6 + 3 + 7 + 13 * 7 + 3), lines.stream().skip(1).filter(l -> !l.startsWith("head,")).count());
        assertEquals(4 * 2, lines.stream().filter(l -> l.startsWith("head,,")).count());
        assertEquals(1 + 4 * (6 + 3 + 7 + 13 * 7 + 3) + 4 * 2, lines.size());
    }

    @Test
    void quietWritesOnlyFiles() throws Exception {
        try (DemoFiles demo = new DemoFiles()) {
            Path json = tmp.resolve("q.json");
            Cli r = Cli.run("trace", "--weights", demo.resolve("model.safetensors").toString(), "--input", demo.resolve("input.npy").toString(),
                    "--json", json.toString(), "-q");
            assertEquals(0, r.code(), r.toString());
            assertEquals("wrote 3 step records to " + json + System.lineSeparator(), r.out());
        }
    }

    /** Ranges are clamped to the input: the widest int range is every step, at once, the same as no filter. */
    @Test
    void rangesAreClampedToTheInput() throws Exception {
        try (DemoFiles demo = new DemoFiles()) {
            String w = demo.resolve("model.safetensors").toString(), x = demo.resolve("input.npy").toString();
            Path all = tmp.resolve("all.csv"), wide = tmp.resolve("wide.csv");
            Cli r = Cli.run("trace", "--weights", w, "--input", x, "-q", "--csv", all.toString());
            assertEquals(0, r.code(), r.toString());
            long t0 = System.nanoTime();
            r = Cli.run("trace", "--weights", w, "--input", x, "-q", "--csv", wide.toString(), "--step", "0..2147483647",
                    "--layer", "0..2147483647", "--batch", "0..2147483647");
            assertEquals(0, r.code(), r.toString());
            assertTrue(System.nanoTime() - t0 < 60_000_000_000L, "a clamped range must not enumerate 2^31 steps");
            assertEquals(java.nio.file.Files.readString(all), java.nio.file.Files.readString(wide));
        }
    }

    @Test
    void badFiltersAreOneLineErrors() throws Exception {
        try (DemoFiles demo = new DemoFiles()) {
            String w = demo.resolve("model.safetensors").toString(), x = demo.resolve("input.npy").toString();
            Cli r = Cli.run("trace", "--weights", w, "--input", x, "--step", "3");
            assertEquals(1, r.code());
            assertEquals("lstm4j: error: trace filter: step 3 does not exist; the input has 3 time steps (0..2)", r.err().strip());
            r = Cli.run("trace", "--weights", w, "--input", x, "--direction", "sideways");
            assertEquals("lstm4j: error: --direction: 'sideways' is not a direction; use forward (0) or reverse (1)", r.err().strip());
            r = Cli.run("trace", "--weights", w, "--input", x, "--step", "2..1");
            assertEquals("lstm4j: error: --step: range '2..1' is empty; write the smaller index first", r.err().strip());
            r = Cli.run("trace", "--weights", w, "--input", x, "--layer", "one");
            assertEquals("lstm4j: error: --layer: 'one' is not an index or a range like 2..5", r.err().strip());
        }
    }

    static Path fixture(String name) {
        Path dir = Path.of("..", "core", "src", "test", "resources", "packed-fixtures", name);
        assertTrue(Files.isDirectory(dir), dir.toAbsolutePath() + " is missing; run /usr/bin/python3 tools/pytorch/make_packed_fixtures.py");
        return dir;
    }
}
