package dev.lstm4j.card;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.io.Json;
import dev.lstm4j.reference.StepValues;
import dev.lstm4j.trace.Trace;
import dev.lstm4j.trace.Stage;
import dev.lstm4j.trace.TraceJson;
import dev.lstm4j.trace.TraceStep;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The LSTM reference card drawn with a trace's values: one self-contained HTML page (inline CSS, JavaScript
 * and SVG; nothing is fetched) with the cell diagram, colour-coded by gate, showing every operation and
 * variable at a chosen step; a step slider, layer/direction/batch pickers, and small plots of h, c and the
 * gates over time.
 *
 * <p>The page reads its starting view from the URL fragment: {@code card.html#step=2&layer=0&dir=0&batch=0&unit=0}.
 * Every value drawn is an SVG {@code text.v} element with {@code data-var} (the trace's JSON name),
 * {@code data-k} (unit) and {@code data-value} (the exact number), so tests can read the DOM.
 */
public final class Card {
    private Card() {
    }

    /**
     * The page's HTML.
     *
     * @param title       shown as the page heading, e.g. the model file's name
     * @param description one line about the model, e.g. its architecture
     */
    public static String html(Trace trace, String title, String description) {
        String template = resource("card.html");
        return template.replace("/*CARD_CSS*/", resource("card.css"))
                .replace("/*CARD_JS*/", resource("card.js"))
                .replace("{{TITLE}}", escape(title))
                .replace("/*CARD_DATA*/null", data(trace, title, description).replace("</", "<\\/"));
    }

    /** Writes the page to {@code file}. */
    public static void write(Path file, Trace trace, String title, String description) {
        try {
            Files.writeString(file, html(trace, title, description), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    /**
     * The page data: configuration, and for each layer/direction/batch row one array per stage, indexed by time
     * step, null where nothing was computed (padding) or recorded (filtered out).
     */
    static String data(Trace trace, String title, String description) {
        LstmConfig c = trace.config();
        StringBuilder b = new StringBuilder();
        b.append("{\"title\":");
        Json.quote(b, title);
        b.append(",\"description\":");
        Json.quote(b, description);
        b.append(",\"input_size\":").append(c.inputSize()).append(",\"hidden_size\":").append(c.hiddenSize())
                .append(",\"num_layers\":").append(c.numLayers()).append(",\"directions\":").append(c.directions())
                .append(",\"proj_size\":").append(c.projSize()).append(",\"bias\":").append(c.bias())
                .append(",\"dtype\":\"").append(trace.precision() == Precision.F64 ? "float64" : "float32").append('"')
                .append(",\"batch\":").append(trace.batch()).append(",\"steps\":").append(trace.steps()).append(",\"lengths\":")
                .append(Json.write(java.util.Arrays.stream(trace.lengths()).boxed().toList()));
        b.append(",\"head\":");
        if (trace.readout().perStep()) {
            perStep(b, trace, trace.head());
        } else {
            b.append("null");
        }
        b.append(",\"model\":");
        model(b, trace);
        b.append(",\"series\":{");
        boolean firstSeries = true;
        for (int layer = 0; layer < c.numLayers(); layer++) {
            for (int dir = 0; dir < c.directions(); dir++) {
                for (int row = 0; row < trace.batch(); row++) {
                    boolean any = false;
                    for (int t = 0; t < trace.steps() && !any; t++) {
                        any = trace.at(layer, dir, row, t) != null;
                    }
                    if (!any) {
                        continue;
                    }
                    b.append(firstSeries ? "" : ",").append("\n\"").append(layer).append(',').append(dir).append(',').append(row).append("\":{");
                    firstSeries = false;
                    for (Stage stage : Stage.values()) {
                        if (!stage.inUnprojected() && c.projSize() == 0) {
                            continue;
                        }
                        b.append(stage.ordinal() == 0 ? "" : ",").append('"').append(stage.key()).append("\":[");
                        for (int t = 0; t < trace.steps(); t++) {
                            TraceStep s = trace.at(layer, dir, row, t);
                            b.append(t == 0 ? "" : ",");
                            if (s == null) {
                                b.append("null");
                            } else {
                                TraceJson.numbers(b, stage.of(s.values()));
                            }
                        }
                        b.append(']');
                    }
                    b.append('}');
                }
            }
        }
        b.append("}}");
        return b.toString();
    }

    /**
     * The whole model: its spec, the readout and each head layer's output per batch row, {@code [row][t][k]} (null for
     * padding) after the readout {@code all}, else {@code [row][k]}.
     */
    private static void model(StringBuilder b, Trace trace) {
        boolean perStep = trace.readout().perStep();
        b.append("{\"spec\":");
        Json.quote(b, trace.spec());
        b.append(",\"readout\":");
        Json.quote(b, trace.readout().keyword());
        b.append(",\"readout_torch\":");
        Json.quote(b, trace.readout().torch());
        b.append(",\"per_step\":").append(perStep).append(",\"readout_values\":");
        if (perStep) {
            b.append("null");
        } else {
            perRow(b, trace, trace.readoutValues());
        }
        b.append(",\"layers\":[");
        for (int k = 0; k < trace.layers().size(); k++) {
            Trace.LayerOutput l = trace.layers().get(k);
            b.append(k == 0 ? "{" : ",{").append("\"name\":");
            Json.quote(b, l.name());
            b.append(",\"layer\":");
            Json.quote(b, l.layer());
            b.append(",\"values\":");
            if (perStep) {
                perStep(b, trace, l.output());
            } else {
                perRow(b, trace, l.output());
            }
            b.append('}');
        }
        b.append("]}");
    }

    /** One vector per batch row, {@code [row][k]}. */
    private static void perRow(StringBuilder b, Trace trace, Tensor y) {
        b.append('[');
        for (int row = 0; row < trace.batch(); row++) {
            b.append(row == 0 ? "" : ",");
            TraceJson.numbers(b, trace.vectorAt(y, row, -1));
        }
        b.append(']');
    }

    /** A per-step tensor per batch row and step, {@code [row][t][k]}, null for padding; null when there is none. */
    private static void perStep(StringBuilder b, Trace trace, Tensor y) {
        if (y == null) {
            b.append("null");
            return;
        }
        b.append('[');
        for (int row = 0; row < trace.batch(); row++) {
            b.append(row == 0 ? "[" : ",[");
            for (int t = 0; t < trace.steps(); t++) {
                b.append(t == 0 ? "" : ",");
                if (t >= trace.lengths()[row]) {
                    b.append("null");
                    continue;
                }
                TraceJson.numbers(b, trace.vectorAt(y, row, t));
            }
            b.append(']');
        }
        b.append(']');
    }

    private static String resource(String name) {
        try (InputStream in = Card.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("card resource " + name + " is missing from the jar; rebuild lstm4j");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
