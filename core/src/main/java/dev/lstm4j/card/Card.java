package dev.lstm4j.card;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Validate;
import dev.lstm4j.internal.io.Json;
import dev.lstm4j.reference.ReferenceLstm;
import dev.lstm4j.trace.GradTrace;
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
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The LSTM reference card drawn with a trace's values: one self-contained HTML page (inline CSS, JavaScript
 * and SVG; nothing is fetched) with the cell diagram, colour-coded by gate, showing every operation and
 * variable at a chosen step; a step slider, layer/direction/batch pickers, and small plots of h, c and the
 * gates over time.
 *
 * <p>With a {@link GradTrace} the page also has a backward view: the same diagram with the gradient of the loss with
 * respect to every gate and state at the chosen step, the gradient flowing back along c and h, and a plot of
 * ‖∂L/∂c_t‖ and ‖∂L/∂h_t‖ over t.
 *
 * <p>The page reads its starting view from the URL fragment: {@code card.html#step=2&layer=0&dir=0&batch=0&unit=0}, and
 * {@code &view=backward} for the backward view. Every value drawn is an SVG {@code text.v} element with
 * {@code data-var} (the trace's JSON name, or the gradient's name such as {@code dc} or {@code dz_f}), {@code data-k}
 * (unit) and {@code data-value} (the exact number), so tests can read the DOM.
 */
public final class Card {
    /**
     * The backward view's values of one step, by their names on the page: ∂L/∂X is {@code dX}; {@code dz_*} are the
     * pre-activations; {@code dh_out} and {@code dh_next} the two parts of dh; {@code dc_next} what reaches c_t from t+1.
     */
    private static final Map<String, Function<GradTrace.Step, double[]>> GRADS = new LinkedHashMap<>();

    static {
        GRADS.put("dh", s -> s.grads().dh());
        GRADS.put("dh_out", GradTrace.Step::dhFromOutput);
        GRADS.put("dh_next", GradTrace.Step::dhFromNext);
        GRADS.put("d_hidden", s -> s.grads().dHidden());
        GRADS.put("dc_next", s -> s.grads().dcFromNext());
        GRADS.put("dc", s -> s.grads().dc());
        GRADS.put("d_i", s -> s.grads().dI());
        GRADS.put("d_f", s -> s.grads().dF());
        GRADS.put("d_g", s -> s.grads().dG());
        GRADS.put("d_o", s -> s.grads().dO());
        GRADS.put("dz_i", s -> s.grads().dZ(ReferenceLstm.I));
        GRADS.put("dz_f", s -> s.grads().dZ(ReferenceLstm.F));
        GRADS.put("dz_g", s -> s.grads().dZ(ReferenceLstm.G));
        GRADS.put("dz_o", s -> s.grads().dZ(ReferenceLstm.O));
        GRADS.put("dc_prev", s -> s.grads().dCPrev());
        GRADS.put("dh_prev", s -> s.grads().dHPrev());
        GRADS.put("dx", s -> s.grads().dX());
    }

    private Card() {
    }

    /**
     * The page's HTML, forward view only (the backward view says it was not recorded).
     *
     * @param title       shown as the page heading, e.g. the model file's name
     * @param description one line about the model, e.g. its architecture
     */
    public static String html(Trace trace, String title, String description) {
        return page(trace, null, title, description);
    }

    /**
     * The page's HTML with both views.
     *
     * @param grads the backward of the same run as {@code trace} ({@link GradTrace#sum} or {@link GradTrace#mse} on the
     *              same model, input and options)
     * @throws dev.lstm4j.InputException when {@code grads} is of another run (other configuration, batch or steps)
     */
    public static String html(Trace trace, GradTrace grads, String title, String description) {
        Validate.input(grads != null, "grads is null; use html(trace, title, description) for a card without the backward view");
        Validate.input(grads.config().equals(trace.config()) && grads.batch() == trace.batch() && grads.steps() == trace.steps()
                && java.util.Arrays.equals(grads.lengths(), trace.lengths()), "the gradient trace is of another run: "
                + grads.config() + " B=" + grads.batch() + " T=" + grads.steps() + ", the trace has " + trace.config() + " B="
                + trace.batch() + " T=" + trace.steps() + "; record both from the same model, input and options");
        return page(trace, grads, title, description);
    }

    private static String page(Trace trace, GradTrace grads, String title, String description) {
        String template = resource("card.html");
        return template.replace("/*CARD_CSS*/", resource("card.css"))
                .replace("/*CARD_JS*/", resource("card.js"))
                .replace("{{TITLE}}", escape(title))
                .replace("/*CARD_DATA*/null", data(trace, grads, title, description).replace("</", "<\\/"));
    }

    /** Writes the forward-only page to {@code file}. */
    public static void write(Path file, Trace trace, String title, String description) {
        write(file, html(trace, title, description));
    }

    /** Writes the page with both views to {@code file}. */
    public static void write(Path file, Trace trace, GradTrace grads, String title, String description) {
        write(file, html(trace, grads, title, description));
    }

    private static void write(Path file, String html) {
        try {
            Files.writeString(file, html, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    /**
     * The page data: configuration, and for each layer/direction/batch row one array per stage, indexed by time
     * step, null where nothing was computed (padding) or recorded (filtered out).
     */
    static String data(Trace trace, GradTrace grads, String title, String description) {
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
        b.append("},\"backward\":");
        backward(b, trace, grads);
        b.append('}');
        return b.toString();
    }

    /**
     * The backward view's data: the loss, and per layer/direction/batch row one array per gradient, indexed by time
     * step (null at padding or where filtered out), with {@code dc_norm} and {@code dh_norm}, ‖dc_t‖ and ‖dh_t‖.
     */
    private static void backward(StringBuilder b, Trace trace, GradTrace grads) {
        if (grads == null) {
            b.append("null");
            return;
        }
        LstmConfig c = trace.config();
        b.append("{\"loss\":");
        Json.quote(b, grads.loss());
        b.append(",\"loss_value\":");
        TraceJson.number(b, grads.lossValue());
        b.append(",\"series\":{");
        boolean firstSeries = true;
        for (int layer = 0; layer < c.numLayers(); layer++) {
            for (int dir = 0; dir < c.directions(); dir++) {
                for (int row = 0; row < trace.batch(); row++) {
                    GradTrace.Step[] at = new GradTrace.Step[trace.steps()];
                    boolean any = false;
                    for (int t = 0; t < trace.steps(); t++) {
                        at[t] = grads.at(layer, dir, row, t);
                        any |= at[t] != null;
                    }
                    if (!any) {
                        continue;
                    }
                    b.append(firstSeries ? "" : ",").append("\n\"").append(layer).append(',').append(dir).append(',').append(row).append("\":{");
                    firstSeries = false;
                    boolean firstVar = true;
                    for (Map.Entry<String, Function<GradTrace.Step, double[]>> e : GRADS.entrySet()) {
                        if (e.getKey().equals("d_hidden") && c.projSize() == 0) {
                            continue;
                        }
                        b.append(firstVar ? "\"" : ",\"").append(e.getKey()).append("\":[");
                        firstVar = false;
                        for (int t = 0; t < at.length; t++) {
                            b.append(t == 0 ? "" : ",");
                            if (at[t] == null) {
                                b.append("null");
                            } else {
                                TraceJson.numbers(b, e.getValue().apply(at[t]));
                            }
                        }
                        b.append(']');
                    }
                    norms(b, "dc_norm", at, s -> s.grads().dc());
                    norms(b, "dh_norm", at, s -> s.grads().dh());
                    b.append('}');
                }
            }
        }
        b.append("}}");
    }

    private static void norms(StringBuilder b, String name, GradTrace.Step[] at, Function<GradTrace.Step, double[]> of) {
        b.append(",\"").append(name).append("\":[");
        for (int t = 0; t < at.length; t++) {
            b.append(t == 0 ? "" : ",");
            if (at[t] == null) {
                b.append("null");
            } else {
                TraceJson.number(b, norm(of.apply(at[t])));
            }
        }
        b.append(']');
    }

    /** ‖v‖₂, summed in index order. */
    static double norm(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x * x;
        }
        return Math.sqrt(s);
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
