package dev.lstm4j.cli;

import dev.lstm4j.train.Trainer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The loss curve as one self-contained HTML page: an inline SVG and a table, no scripts, no network. */
final class LossPlot {
    private LossPlot() {
    }

    /**
     * @param baseline a horizontal reference line (e.g. the persistence baseline in training units), or NaN for none
     */
    static void write(Path file, List<Trainer.Epoch> history, double baseline, String title) {
        int w = 640, h = 360, left = 60, right = 20, top = 30, bottom = 40;
        double max = 0, min = Double.POSITIVE_INFINITY;
        for (Trainer.Epoch e : history) {
            for (double v : new double[] {e.trainLoss(), e.valLoss()}) {
                if (Double.isFinite(v)) {
                    max = Math.max(max, v);
                    min = Math.min(min, v);
                }
            }
        }
        if (Double.isFinite(baseline)) {
            max = Math.max(max, baseline);
            min = Math.min(min, baseline);
        }
        if (!(max > min)) {
            max = min + 1;
        }
        min = Math.min(min, 0);
        int n = Math.max(1, history.size());
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">%n", w, h));
        svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>%n", left, h - bottom, w - right, h - bottom));
        svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>%n", left, top, left, h - bottom));
        for (int k = 0; k <= 4; k++) {
            double v = min + (max - min) * k / 4;
            double y = y(v, min, max, h, top, bottom);
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>%n", left - 4, y + 4, v));
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>%n", left, y, w - right, y));
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">epoch (1..%d)</text>%n", (left + w - right) / 2, h - 8, history.size()));
        if (Double.isFinite(baseline)) {
            double y = y(baseline, min, max, h, top, bottom);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#888\" stroke-dasharray=\"6 4\"/>%n", left, y, w - right, y));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#666\">persistence baseline</text>%n", w - right, y - 4));
        }
        line(svg, history, true, "#1f77b4", n, w, h, left, right, top, bottom, min, max);
        line(svg, history, false, "#d62728", n, w, h, left, right, top, bottom, min, max);
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" fill=\"#1f77b4\">training loss</text>%n", left + 10));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" fill=\"#d62728\">validation loss</text>%n", left + 120));
        svg.append("</svg>\n");
        StringBuilder html = new StringBuilder();
        html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(escape(title)).append("</title></head>\n<body>\n");
        html.append("<h1 style=\"font-family:sans-serif;font-size:16px\">").append(escape(title)).append("</h1>\n").append(svg);
        html.append("<table style=\"font-family:monospace\"><tr><th>epoch</th><th>training loss</th><th>validation loss</th></tr>\n");
        for (Trainer.Epoch e : history) {
            html.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%.6g</td><td>%s</td></tr>%n", e.epoch(), e.trainLoss(),
                    Double.isNaN(e.valLoss()) ? "-" : String.format(Locale.ROOT, "%.6g", e.valLoss())));
        }
        html.append("</table>\n<p style=\"font-family:sans-serif\">Losses are in standardised units (the training loss).</p>\n</body></html>\n");
        try {
            Files.writeString(file, html, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write --plot " + file + ": " + e.getMessage(), e);
        }
    }

    private static double y(double v, double min, double max, int h, int top, int bottom) {
        return h - bottom - (v - min) / (max - min) * (h - top - bottom);
    }

    private static void line(StringBuilder svg, List<Trainer.Epoch> history, boolean train, String color, int n, int w, int h, int left,
                             int right, int top, int bottom, double min, double max) {
        StringBuilder pts = new StringBuilder();
        for (int k = 0; k < history.size(); k++) {
            double v = train ? history.get(k).trainLoss() : history.get(k).valLoss();
            if (!Double.isFinite(v)) {
                continue;
            }
            double x = left + (n == 1 ? 0.5 : (double) k / (n - 1)) * (w - left - right);
            pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y(v, min, max, h, top, bottom)));
        }
        if (pts.length() > 0) {
            svg.append("<polyline fill=\"none\" stroke=\"").append(color).append("\" stroke-width=\"2\" points=\"").append(pts.toString().strip()).append("\"/>\n");
        }
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
