package dev.lstm4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The page the card command writes; CardIT renders it in Chromium. */
class CardCommandTest {
    @TempDir
    Path tmp;

    @Test
    void demoPageIsSelfContained() throws Exception {
        Path page = tmp.resolve("card.html");
        Cli r = Cli.run("card", "--demo", "--out", page.toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().startsWith("wrote " + page), r.out());
        String html = Files.readString(page);
        assertSelfContained(html);
        assertTrue(html.contains("\"hidden_size\":3"), "page data");
        assertTrue(html.contains("LSTM(input_size=2, hidden_size=3"), "model description");
    }

    /** Nothing a browser would fetch: no src/href attributes, no url(), no @import, no http(s) except the SVG namespace. */
    static void assertSelfContained(String html) {
        assertFalse(Pattern.compile("\\s(src|href)\\s*=", Pattern.CASE_INSENSITIVE).matcher(html).find(), "src/href in page");
        assertFalse(html.contains("@import"), "@import in page");
        assertFalse(Pattern.compile("url\\(\\s*['\"]?[a-z]+:", Pattern.CASE_INSENSITIVE).matcher(html).find(), "url() with a scheme in page");
        Matcher m = Pattern.compile("https?://[^\\s'\"<)]*").matcher(html);
        while (m.find()) {
            assertEquals("http://www.w3.org/2000/svg", m.group(), "only the SVG namespace may appear");
        }
    }

    @Test
    void sourceMustBeDemoOrFiles() throws Exception {
        Path page = tmp.resolve("x.html");
        Cli r = Cli.run("card", "--out", page.toString());
        assertEquals(1, r.code());
        assertEquals("lstm4j: error: card needs --weights and --input (as run takes them), or --demo for the article's example", r.err().strip());
        try (DemoFiles demo = new DemoFiles()) {
            r = Cli.run("card", "--demo", "--weights", demo.resolve("model.safetensors").toString(), "--input",
                    demo.resolve("input.npy").toString(), "--out", page.toString());
            assertEquals(1, r.code());
            assertEquals("lstm4j: error: --demo draws the article's example; give either --demo or --weights with --input, not both",
                    r.err().strip());
        }
        assertFalse(Files.exists(page));
    }

    @Test
    void filesWithLengthsAndBatchFilter() throws Exception {
        Path dir = TraceCommandTest.fixture("packed_layers2_bidir_proj_state");
        Path page = tmp.resolve("p.html");
        Cli r = Cli.run("card", "--weights", dir.resolve("model.safetensors").toString(), "--input", dir.resolve("input.npy").toString(),
                "--lengths", "7,3,5,1,6", "--batch", "1", "--out", page.toString());
        assertEquals(0, r.code(), r.toString());
        // row 1 has length 3: 3 steps x 2 layers x 2 directions
        assertTrue(r.out().contains("12 steps drawn"), r.out());
        String html = Files.readString(page);
        assertSelfContained(html);
        assertTrue(html.contains("\"0,0,1\":{") && !html.contains("\"0,0,0\":{"), "only row 1 drawn");
    }

    @Test
    void aModelTheBackwardCannotGoThroughGetsTheForwardViewAndTheReason() throws Exception {
        Path dir = ModelCommandTest.FIX.resolve("layernorm_gelu_f64");
        Path page = tmp.resolve("ln.html");
        String[] base = {"card", "--weights", dir.resolve("model.safetensors").toString(), "--model",
                "lstm > last > ln > fc1 > gelu > fc2 > sigmoid", "--input", dir.resolve("input.npy").toString(), "--out", page.toString()};
        Cli r = Cli.run(base);
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.err().contains("note: the page has no backward view: gradient trace of lstm > last > ln > fc1 > gelu > fc2 > sigmoid: "
                + "head layer 'ln' (LayerNorm("), r.err());
        assertTrue(Files.readString(page).contains("\"backward\":null"), "no backward data");
        // asked for explicitly with --target, the backward view is refused rather than left out
        Files.delete(page);
        String[] withTarget = java.util.Arrays.copyOf(base, base.length + 2);
        withTarget[base.length] = "--target";
        withTarget[base.length + 1] = dir.resolve("y.npy").toString();
        r = Cli.run(withTarget);
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().contains("card --target: gradient trace of "), r.err());
        assertFalse(Files.exists(page));
    }

    @Test
    void aTargetGivesTheMseLossAndMustHaveTheOutputsShape() throws Exception {
        Path dir = ModelCommandTest.FIX.resolve("forecaster_f64");
        Path page = tmp.resolve("f.html");
        Cli r = Cli.run("card", "--weights", dir.resolve("model.safetensors").toString(), "--model", "lstm > last > fc", "--input",
                dir.resolve("input.npy").toString(), "--target", dir.resolve("y.npy").toString(), "--out", page.toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("backward view: the gradients of L = MSELoss(reduction='mean')(y, target)"), r.out());
        assertTrue(Files.readString(page).contains("\"loss\":\"MSELoss(reduction='mean')(y, target)\""), "loss in the page");
        r = Cli.run("card", "--weights", dir.resolve("model.safetensors").toString(), "--model", "lstm > last > fc", "--input",
                dir.resolve("input.npy").toString(), "--target", dir.resolve("input.npy").toString(), "--out", page.toString());
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().contains("target: expected the shape of the model's output y, "), r.err());
    }

    @Test
    void helpMentionsTheBackwardView() {
        Cli r = Cli.run("card", "--help");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("Backward") && r.out().contains("--target") && r.out().contains("#view=backward"), r.out());
    }
}
