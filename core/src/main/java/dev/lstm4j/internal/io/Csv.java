package dev.lstm4j.internal.io;

import dev.lstm4j.DType;
import dev.lstm4j.FileFormatException;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Names;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One sequence as CSV: one time step per row, one feature per column, comma-separated. A first row that
 * is not all numbers is a header. {@code nan}, {@code inf} and {@code -inf} are read as NumPy writes them.
 */
public final class Csv {
    private Csv() {
    }

    /** A parsed CSV: the values as a {@code (rows, columns)} tensor and the header, or null. */
    public record Table(Tensor values, List<String> header) {
    }

    /**
     * Reads a numeric CSV into a {@code (T, columns)} tensor of the given dtype.
     *
     * @throws FileFormatException naming the line and column of the first bad cell
     */
    public static Table read(Path file, DType dtype) {
        List<double[]> rows = new ArrayList<>();
        List<String> header = null;
        int columns = -1;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            boolean blankSeen = false;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (lineNo == 1 && line.startsWith("\uFEFF")) {
                    line = line.substring(1);
                }
                if (line.isBlank()) {
                    blankSeen = true;
                    continue;
                }
                if (blankSeen) {
                    throw new FileFormatException(file, "line " + lineNo + ": data after a blank line; remove the blank line");
                }
                String[] cells = line.split(",", -1);
                if (columns >= 0 && cells.length != columns) {
                    throw new FileFormatException(file, "line " + lineNo + ": " + cells.length + " columns, but earlier rows have " + columns);
                }
                double[] row = new double[cells.length];
                String bad = null;
                int badCol = -1;
                for (int c = 0; c < cells.length; c++) {
                    Double v = number(cells[c]);
                    if (v == null) {
                        bad = cells[c];
                        badCol = c + 1;
                        break;
                    }
                    row[c] = v;
                }
                if (bad != null) {
                    if (rows.isEmpty() && header == null) {
                        header = new ArrayList<>();
                        for (String cell : cells) {
                            header.add(cell.strip());
                        }
                        columns = cells.length;
                        continue;
                    }
                    throw new FileFormatException(file, "line " + lineNo + ", column " + badCol + ": '" + Names.safe(bad.strip(), 40) + "' is not a number");
                }
                columns = cells.length;
                rows.add(row);
            }
        } catch (NoSuchFileException e) {
            throw new FileFormatException(file, "no such file");
        } catch (MalformedInputException e) {
            throw new FileFormatException(file, "not UTF-8 text; not a CSV file?");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
        if (rows.isEmpty()) {
            throw new FileFormatException(file, "no data rows; the CSV needs one row per time step");
        }
        if ((long) rows.size() * columns > Integer.MAX_VALUE - 8) {
            throw new FileFormatException(file, rows.size() + " rows of " + columns + " columns are more values than one tensor holds");
        }
        double[] flat = new double[rows.size() * columns];
        for (int t = 0; t < rows.size(); t++) {
            System.arraycopy(rows.get(t), 0, flat, t * columns, columns);
        }
        return new Table(Tensor.of(dtype, new int[] {rows.size(), columns}, flat), header);
    }

    /** One cell as a number (nan, inf and -inf as NumPy writes them), or null when it is not one. */
    public static Double number(String cell) {
        String s = cell.strip();
        if (s.isEmpty()) {
            return null;
        }
        switch (s.toLowerCase(Locale.ROOT)) {
            case "nan":
                return Double.NaN;
            case "inf", "+inf", "infinity":
                return Double.POSITIVE_INFINITY;
            case "-inf", "-infinity":
                return Double.NEGATIVE_INFINITY;
            default:
                break;
        }
        char c0 = s.charAt(0);
        if (!(Character.isDigit(c0) || c0 == '-' || c0 == '+' || c0 == '.')) {
            return null;
        }
        char last = s.charAt(s.length() - 1);
        if (!(Character.isDigit(last) || last == '.')) {
            return null; // Java would accept "1d" or "1f"
        }
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Writes a 1-D or 2-D tensor as CSV, one row per first-dimension index, values as shortest round-trip text. */
    public static void write(Path file, Tensor t, List<String> header) {
        int rows = t.rank() == 1 ? 1 : t.size(0);
        int cols = t.rank() == 1 ? t.size(0) : t.elementCount() / Math.max(1, rows);
        if (t.rank() > 2) {
            throw new IllegalArgumentException("CSV holds 1-D or 2-D tensors, got " + Tensor.shapeString(t.shape()));
        }
        boolean f32 = t.dtype() != DType.F64;
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            if (header != null) {
                w.write(String.join(",", header));
                w.write('\n');
            }
            for (int r = 0; r < rows; r++) {
                StringBuilder b = new StringBuilder();
                for (int c = 0; c < cols; c++) {
                    if (c > 0) {
                        b.append(',');
                    }
                    double v = t.at(r * cols + c);
                    b.append(text(v, f32));
                }
                b.append('\n');
                w.write(b.toString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** A value as CSV text: shortest round-trip digits, and nan/inf/-inf as NumPy writes them. */
    public static String text(double v, boolean f32) {
        if (Double.isNaN(v)) {
            return "nan";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        return f32 ? Float.toString((float) v) : Double.toString(v);
    }
}
