package dev.lstm4j.cli;

import dev.lstm4j.ForwardOptions;
import dev.lstm4j.Layout;
import dev.lstm4j.LstmModel;
import dev.lstm4j.LstmState;
import dev.lstm4j.internal.io.ModelLoader;
import dev.lstm4j.internal.io.Npy;
import dev.lstm4j.reference.StepValues;
import dev.lstm4j.Tensor;
import dev.lstm4j.trace.GradTrace;
import dev.lstm4j.trace.Trace;
import dev.lstm4j.trace.TraceFilter;
import dev.lstm4j.trace.TraceStep;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Renders {@code lstm4j card} pages in headless Chromium (Debian's {@code chromium}), checks every value the
 * page shows against the trace, and saves a screenshot of the demo card to {@code target/card.png} (and to
 * {@code docs/card.png} with {@code -Dlstm4j.updateScreenshot=true}). Fails, never
 * skips, when Chromium is missing.
 */
class CardIT {
    private static final int ROWS = 6;
    private static final Pattern VALUE = Pattern.compile("<text ([^>]*class=\"v\"[^>]*)>([^<]*)<title>");
    private static final Pattern ATTR = Pattern.compile("([\\w-]+)=\"([^\"]*)\"");
    private static final Pattern POINT = Pattern.compile("<circle ([^>]*class=\"pt\"[^>]*)>");
    private static final Map<String, Function<StepValues, double[]>> VARS = new LinkedHashMap<>();
    /** The backward view's values, by their names on the page. */
    private static final Map<String, Function<GradTrace.Step, double[]>> GRADS = new LinkedHashMap<>();

    static {
        VARS.put("x", StepValues::x);
        VARS.put("h_prev", StepValues::hPrev);
        VARS.put("c_prev", StepValues::cPrev);
        VARS.put("i_pre", v -> v.i().preActivation());
        VARS.put("i", v -> v.i().activation());
        VARS.put("f_pre", v -> v.f().preActivation());
        VARS.put("f", v -> v.f().activation());
        VARS.put("g_pre", v -> v.g().preActivation());
        VARS.put("g", v -> v.g().activation());
        VARS.put("o_pre", v -> v.o().preActivation());
        VARS.put("o", v -> v.o().activation());
        VARS.put("f_c_prev", StepValues::kept);
        VARS.put("i_g", StepValues::written);
        VARS.put("c", StepValues::c);
        VARS.put("tanh_c", StepValues::tanhC);
        VARS.put("h", StepValues::hidden);
        GRADS.put("dh", s -> s.grads().dh());
        GRADS.put("dh_out", GradTrace.Step::dhFromOutput);
        GRADS.put("dh_next", GradTrace.Step::dhFromNext);
        GRADS.put("dc_next", s -> s.grads().dcFromNext());
        GRADS.put("dc", s -> s.grads().dc());
        GRADS.put("d_i", s -> s.grads().dI());
        GRADS.put("d_f", s -> s.grads().dF());
        GRADS.put("d_g", s -> s.grads().dG());
        GRADS.put("d_o", s -> s.grads().dO());
        GRADS.put("dz_i", s -> s.grads().dZ(0));
        GRADS.put("dz_f", s -> s.grads().dZ(1));
        GRADS.put("dz_g", s -> s.grads().dZ(2));
        GRADS.put("dz_o", s -> s.grads().dZ(3));
        GRADS.put("dc_prev", s -> s.grads().dCPrev());
        GRADS.put("dh_prev", s -> s.grads().dHPrev());
        GRADS.put("dx", s -> s.grads().dX());
    }

    private static Path chromium;

    @TempDir
    Path tmp;

    @BeforeAll
    static void findChromium() {
        String override = System.getenv("LSTM4J_CHROMIUM");
        if (override != null && !override.isBlank()) {
            chromium = Path.of(override);
            assertTrue(Files.isExecutable(chromium), "LSTM4J_CHROMIUM=" + override + " is not an executable file");
            return;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            for (String name : new String[] {"chromium", "chromium-browser"}) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    chromium = p;
                    return;
                }
            }
        }
        String why = "CardIT renders the card in headless Chromium, but no chromium is on PATH (" + System.getenv("PATH")
                + "). Install Debian's: apt-get install -y chromium (or set LSTM4J_CHROMIUM to the binary).";
        if (browserRequired()) {
            fail(why + " The browser test is mandatory here (-Dlstm4j.requireBrowser=true or LSTM4J_REQUIRE_BROWSER=1).");
        }
        String banner = "*".repeat(100);
        System.out.println(banner + "\nSKIPPED: CardIT (the card rendered in a browser). " + why
                + "\nCI makes this test mandatory (LSTM4J_REQUIRE_BROWSER=1 in .ci/run).\n" + banner);
        Assumptions.abort("SKIPPED: " + why);
    }

    /** CI sets this, so that a missing browser fails the build rather than skipping the test. */
    static boolean browserRequired() {
        String env = System.getenv("LSTM4J_REQUIRE_BROWSER");
        return Boolean.getBoolean("lstm4j.requireBrowser") || env != null && (env.equals("1") || env.equalsIgnoreCase("true"));
    }

    @Test
    void demoCardShowsTheTraceAtEveryStep() throws Exception {
        Path page = tmp.resolve("card.html");
        Cli r = Cli.run("card", "--demo", "--out", page.toString());
        assertEquals(0, r.code(), r.toString());
        CardCommandTest.assertSelfContained(Files.readString(page));
        Trace trace;
        try (DemoFiles demo = new DemoFiles()) {
            LstmModel m = ModelLoader.load(demo.resolve("model.safetensors"), ModelLoader.Options.DEFAULT);
            trace = Trace.record(m, Npy.read(demo.resolve("input.npy")), ForwardOptions.defaults(), TraceFilter.ALL);
        }
        for (int t = 0; t < 3; t++) {
            String dom = dumpDom(page, "step=" + t);
            assertTrue(dom.contains("data-step=\"" + t + "\""), "page did not open at step " + t);
            int shown = checkValues(dom, trace.at(0, 0, 0, t), false, 0, "demo step " + t);
            assertEquals(2 + 3 + 3 + 8 * 3 + 5 * 3, shown, "values drawn at step " + t);
            assertTrue(dom.contains("head yₜ = ["), "status shows the head's output");
        }
        // the screenshot for the README
        Path png = tmp.resolve("card.png");
        screenshot(page, "step=2", png);
        byte[] bytes = Files.readAllBytes(png);
        assertTrue(bytes.length > 50_000 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G', "screenshot is a PNG of " + bytes.length + " bytes");
        Files.write(Path.of("target", "card.png"), bytes);
        // docs/card.png is tracked; refresh it only when asked, so a test run leaves the tree clean
        if (Boolean.getBoolean("lstm4j.updateScreenshot")) {
            Path docs = Path.of("..", "docs");
            assertTrue(Files.isDirectory(docs), "run from the cli module: " + docs.toAbsolutePath() + " not found");
            Files.write(docs.resolve("card.png"), bytes);
        }
    }

    @Test
    void layersDirectionsRowsUnitsAndPadding() throws Exception {
        Path dir = TraceCommandTest.fixture("packed_layers2_bidir_proj_state");
        Path page = tmp.resolve("packed.html");
        Cli r = Cli.run("card", "--weights", dir.resolve("model.safetensors").toString(), "--input", dir.resolve("input.npy").toString(),
                "--h0", dir.resolve("h0.npy").toString(), "--c0", dir.resolve("c0.npy").toString(), "--lengths",
                dir.resolve("lengths.npy").toString(), "--out", page.toString());
        assertEquals(0, r.code(), r.toString());
        LstmModel m = ModelLoader.load(dir.resolve("model.safetensors"), ModelLoader.Options.DEFAULT);
        Trace trace = Trace.record(m, Npy.read(dir.resolve("input.npy")), ForwardOptions.defaults().withInitial(new LstmState(Npy.read(dir.resolve("h0.npy")), Npy.read(dir.resolve("c0.npy")))).withLengths(new int[] {7, 3, 5, 1, 6}), TraceFilter.ALL);
        int[][] views = {{2, 1, 1, 1, 6}, {0, 0, 0, 3, 0}, {6, 1, 0, 0, 0}, {4, 0, 1, 4, 0}};
        for (int[] v : views) {
            String where = "step=" + v[0] + "&layer=" + v[1] + "&dir=" + v[2] + "&batch=" + v[3] + "&unit=" + v[4];
            String dom = dumpDom(page, where);
            assertTrue(dom.contains("data-step=\"" + v[0] + "\" data-layer=\"" + v[1] + "\" data-dir=\"" + v[2] + "\" data-batch=\"" + v[3] + "\""),
                    "page did not open at " + where);
            int shown = checkValues(dom, trace.at(v[1], v[2], v[3], v[0]), true, v[4], where);
            assertTrue(shown > 0, where + ": no values drawn");
        }
        // row 1 has length 3, so step 4 is padding: nothing drawn, and the page says so
        String dom = dumpDom(page, "step=4&layer=0&dir=0&batch=1");
        assertTrue(trace.at(0, 0, 1, 4) == null);
        assertEquals(0, count(VALUE.matcher(dom)), "values drawn at a padded step");
        assertTrue(dom.contains("padding, row 1 has length 3, so nothing is computed here"), "status at a padded step");
    }

    @Test
    void demoBackwardViewShowsTheGradientTraceAndTheNormPlot() throws Exception {
        Path page = tmp.resolve("card.html");
        Cli r = Cli.run("card", "--demo", "--out", page.toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("backward view: the gradients of L = y.sum()"), r.out());
        GradTrace grads;
        try (DemoFiles demo = new DemoFiles()) {
            LstmModel m = ModelLoader.load(demo.resolve("model.safetensors"), ModelLoader.Options.DEFAULT);
            grads = GradTrace.sum(m, Npy.read(demo.resolve("input.npy")), ForwardOptions.defaults(), TraceFilter.ALL);
        }
        for (int t = 0; t < 3; t++) {
            String dom = dumpDom(page, "view=backward&step=" + t);
            assertTrue(dom.contains("data-view=\"backward\""), "page did not open the backward view at step " + t);
            assertTrue(dom.contains("data-step=\"" + t + "\""), "page did not open at step " + t);
            int shown = checkValues(dom, grads.at(0, 0, 0, t), GRADS, 0, "demo backward step " + t);
            // 16 gradients: dx (2 units), the rest (3 units each)
            assertEquals(2 + 15 * 3, shown, "gradients drawn at step " + t);
            assertTrue(dom.contains("backward: gradients of L = y.sum() = "), "status names the loss");
            assertTrue(dom.contains("the gradients are computed in float64 from those values"), "footer says how the gradients are computed");
            checkNormPlot(dom, grads, 0, 0, 0, "demo step " + t);
        }
        // the forward view is still the default
        assertTrue(dumpDom(page, "step=1").contains("data-view=\"forward\""));
        Path png = tmp.resolve("card-backward.png");
        screenshot(page, "view=backward&step=1", png);
        Files.write(Path.of("target", "card-backward.png"), Files.readAllBytes(png));
        if (Boolean.getBoolean("lstm4j.updateScreenshot")) {
            Files.write(Path.of("..", "docs", "card-backward.png"), Files.readAllBytes(png));
        }
    }

    @Test
    void backwardViewOfLayersDirectionsProjectionPaddingAndATarget() throws Exception {
        Path dir = Path.of("..", "core", "src", "test", "resources", "card-backward-fixtures", "bidir_layers2_proj_packed_mean_sum");
        assertTrue(Files.isDirectory(dir), dir.toAbsolutePath() + " is missing; run /usr/bin/python3 tools/pytorch/make_card_backward_fixtures.py");
        // L = MSELoss against a target of the output's shape (B, O) = (3, 2), made here: any target will do
        Path targetFile = tmp.resolve("target.npy");
        Tensor target = Tensor.of(dev.lstm4j.DType.F64, new int[] {3, 2}, new double[] {0.5, -1, 2, 0.25, -0.75, 1.5});
        Npy.write(targetFile, target);
        Path page = tmp.resolve("packed-backward.html");
        Cli r = Cli.run("card", "--weights", dir.resolve("model.safetensors").toString(), "--input", dir.resolve("input.npy").toString(),
                "--h0", dir.resolve("h0.npy").toString(), "--c0", dir.resolve("c0.npy").toString(), "--lengths",
                dir.resolve("lengths.npy").toString(), "--target", targetFile.toString(), "--out", page.toString());
        assertEquals(0, r.code(), r.toString());
        LstmModel m = dev.lstm4j.Lstm4j.load(dir.resolve("model.safetensors"));
        ForwardOptions options = ForwardOptions.defaults().withInitial(new LstmState(Npy.read(dir.resolve("h0.npy")),
                Npy.read(dir.resolve("c0.npy")))).withLengths(new int[] {6, 3, 5});
        GradTrace grads = GradTrace.mse(m, Npy.read(dir.resolve("input.npy")), options, TraceFilter.ALL, target);
        Map<String, Function<GradTrace.Step, double[]>> vars = new LinkedHashMap<>(GRADS);
        vars.put("d_hidden", s -> s.grads().dHidden());
        int[][] views = {{2, 1, 1, 1}, {0, 0, 0, 0}, {5, 1, 0, 0}, {4, 0, 1, 2}};
        for (int[] v : views) {
            String where = "view=backward&step=" + v[0] + "&layer=" + v[1] + "&dir=" + v[2] + "&batch=" + v[3];
            String dom = dumpDom(page, where);
            assertTrue(dom.contains("data-step=\"" + v[0] + "\" data-layer=\"" + v[1] + "\" data-dir=\"" + v[2] + "\" data-batch=\"" + v[3] + "\""),
                    "page did not open at " + where);
            assertTrue(dom.contains("backward: gradients of L = MSELoss(reduction='mean')(y, target) = "), where + ": status names the loss");
            checkValues(dom, grads.at(v[1], v[2], v[3], v[0]), vars, 0, where);
            checkNormPlot(dom, grads, v[1], v[2], v[3], where);
        }
        // row 1 has length 3: step 4 is padding, no gradient drawn
        String dom = dumpDom(page, "view=backward&step=4&layer=0&dir=0&batch=1");
        assertEquals(0, count(VALUE.matcher(dom)), "gradients drawn at a padded step");
    }

    /** The ‖dc_t‖ and ‖dh_t‖ plot: one point per computed step of the row, each the norm of the Java gradient. */
    private static void checkNormPlot(String dom, GradTrace grads, int layer, int dir, int row, String where) {
        assertTrue(dom.contains("data-plot=\"grad-norms\""), where + ": no ‖dc_t‖ plot");
        Map<String, Double> points = new HashMap<>();
        Matcher m = POINT.matcher(dom);
        while (m.find()) {
            Map<String, String> a = new HashMap<>();
            Matcher am = ATTR.matcher(m.group(1));
            while (am.find()) {
                a.put(am.group(1), am.group(2));
            }
            assertTrue(points.put(a.get("data-var") + "@" + a.get("data-t"), Double.parseDouble(a.get("data-value"))) == null,
                    where + ": point drawn twice");
        }
        int len = grads.lengths()[row];
        assertEquals(2 * len, points.size(), where + ": one ‖dc‖ and one ‖dh‖ point per step of the row: " + points.keySet());
        for (int t = 0; t < len; t++) {
            GradTrace.Step s = grads.at(layer, dir, row, t);
            assertEquals(norm(s.grads().dc()), points.get("dc_norm@" + t), 0.0, where + ": ‖dc‖ at t = " + t);
            assertEquals(norm(s.grads().dh()), points.get("dh_norm@" + t), 0.0, where + ": ‖dh‖ at t = " + t);
        }
    }

    private static double norm(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x * x;
        }
        return Math.sqrt(s);
    }

    /** Every value of the step's record in the unit window is drawn once, with its exact number and its rounded text. */
    private static int checkValues(String dom, TraceStep step, boolean projected, int unit, String where) {
        assertTrue(step != null, where + ": no record");
        Map<String, Function<StepValues, double[]>> vars = new LinkedHashMap<>(VARS);
        if (projected) {
            vars.put("h_proj", StepValues::h);
        }
        return checkValues(dom, step.values(), vars, unit, where);
    }

    private static <S> int checkValues(String dom, S step, Map<String, Function<S, double[]>> vars, int unit, String where) {
        assertTrue(step != null, where + ": no record");
        Map<String, String[]> drawn = new HashMap<>();
        Matcher m = VALUE.matcher(dom);
        int n = 0;
        while (m.find()) {
            Map<String, String> a = new HashMap<>();
            Matcher am = ATTR.matcher(m.group(1));
            while (am.find()) {
                a.put(am.group(1), am.group(2));
            }
            String id = a.get("data-var") + "[" + a.get("data-k") + "]";
            assertTrue(drawn.put(id, new String[] {a.get("data-value"), m.group(2)}) == null, where + ": " + id + " drawn twice");
            n++;
        }
        int expected = 0;
        for (Map.Entry<String, Function<S, double[]>> e : vars.entrySet()) {
            double[] values = e.getValue().apply(step);
            int from = unit < values.length ? unit : (values.length - 1) / ROWS * ROWS;
            for (int k = from; k < Math.min(values.length, from + ROWS); k++) {
                String id = e.getKey() + "[" + k + "]";
                String[] got = drawn.get(id);
                assertTrue(got != null, where + ": " + id + " not drawn; drawn: " + drawn.keySet());
                assertEquals(values[k], Double.parseDouble(got[0]), 0.0, where + ": " + id + " data-value");
                assertEquals(display(values[k]), got[1], where + ": " + id + " text");
                expected++;
            }
        }
        assertEquals(expected, n, where + ": values drawn " + drawn.keySet());
        return n;
    }

    /** As the page formats numbers: JavaScript's toFixed(6) (exact binary value, ties away from zero), else toExponential(3). */
    private static String display(double v) {
        double a = Math.abs(v);
        if (a == 0 || (a >= 1e-4 && a < 1e4)) {
            return new BigDecimal(v).setScale(6, RoundingMode.HALF_UP).toPlainString();
        }
        // toExponential(3): four significant digits of the exact value, ties away from zero, exponent with its sign
        BigDecimal r = new BigDecimal(a).round(new MathContext(4, RoundingMode.HALF_UP));
        int e = r.precision() - r.scale() - 1;
        return (v < 0 ? "-" : "") + r.movePointLeft(e).setScale(3, RoundingMode.UNNECESSARY).toPlainString() + "e" + (e < 0 ? "-" : "+")
                + Math.abs(e);
    }

    private static int count(Matcher m) {
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private String dumpDom(Path page, String fragment) throws Exception {
        Path out = tmp.resolve("dom-" + System.nanoTime() + ".html");
        run(List.of("--dump-dom", page.toUri() + "#" + fragment), out);
        String dom = Files.readString(out);
        assertTrue(dom.contains("<svg id=\"cell\""), "chromium returned no page: " + dom.length() + " chars");
        return dom;
    }

    private void screenshot(Path page, String fragment, Path png) throws Exception {
        run(List.of("--window-size=1500,1000", "--hide-scrollbars", "--screenshot=" + png, page.toUri() + "#" + fragment), tmp.resolve("shot.out"));
        assertTrue(Files.size(png) > 0, "no screenshot written");
    }

    /** One headless Chromium run with a fresh profile; fails with its log on a non-zero exit or after 120 s. */
    private void run(List<String> args, Path stdout) throws Exception {
        Path profile = Files.createTempDirectory(tmp, "chromium-profile");
        Path log = tmp.resolve("chromium-" + System.nanoTime() + ".log");
        List<String> cmd = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(log.toFile()).start();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                fail("chromium did not finish in 120 s: " + String.join(" ", cmd) + "\n" + Files.readString(log));
            }
            assertEquals(0, p.exitValue(), "chromium failed: " + String.join(" ", cmd) + "\n" + Files.readString(log));
        } finally {
            // the profile lives in the @TempDir, which JUnit removes
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
