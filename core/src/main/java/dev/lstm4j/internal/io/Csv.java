package dev.lstm4j.internal.io;

import dev.lstm4j.DType;
import dev.lstm4j.FileFormatException;
import dev.lstm4j.InputException;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One sequence as CSV: one time step per row, one feature per column, comma-separated. A first row in which no
 * field is a number is a header. Blank lines are skipped. A selection of columns (by header name or 1-based
 * number) picks the features from a file that holds more, such as {@code date,value}; the other columns are
 * not read as numbers. {@code nan}, {@code inf} and {@code -inf} are read as NumPy writes them.
 */
public final class Csv {
    private static final Pattern NUMBER = Pattern.compile("\\d{1,9}");
    private static final Pattern RANGE = Pattern.compile("(\\d{1,9})\\s*\\.\\.\\s*(\\d{1,9})");

    private Csv() {
    }

    /** A parsed CSV: the values as a {@code (rows, columns)} tensor and the header (of the chosen columns), or null. */
    public record Table(Tensor values, List<String> header) {
    }

    /**
     * Reads a numeric CSV into a {@code (T, columns)} tensor of the given dtype, every column.
     *
     * @throws FileFormatException naming the line and column of the first bad cell
     */
    public static Table read(Path file, DType dtype) {
        return read(file, dtype, null);
    }

    /**
     * Reads the chosen columns of a CSV into a {@code (T, chosen)} tensor of the given dtype.
     *
     * @param columns null for every column, else a comma list of header names, 1-based column numbers and
     *                inclusive ranges of them ({@code value}, {@code 2,3}, {@code 2..4}), in the order wanted
     * @throws FileFormatException naming the line and column of the first bad cell
     * @throws InputException      when the selection names a column the file does not have
     */
    public static Table read(Path file, DType dtype, String columns) {
        List<double[]> rows = new ArrayList<>();
        List<String> header = null;
        int width = -1;
        int[] chosen = null;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (lineNo == 1 && line.startsWith("\uFEFF")) {
                    line = line.substring(1);
                }
                if (line.isBlank()) {
                    continue;
                }
                String[] cells = line.split(",", -1);
                if (width < 0) {
                    width = cells.length;
                    if (noNumbers(cells)) {
                        header = new ArrayList<>();
                        for (String cell : cells) {
                            header.add(cell.strip());
                        }
                    }
                    chosen = choose(file, columns, header, width);
                    if (header != null) {
                        continue;
                    }
                } else if (cells.length != width) {
                    throw new FileFormatException(file, "line " + lineNo + ": " + cells.length + " columns, but earlier rows have " + width);
                }
                double[] row = new double[chosen.length];
                for (int c = 0; c < chosen.length; c++) {
                    Double v = number(cells[chosen[c]]);
                    if (v == null) {
                        throw new FileFormatException(file, "line " + lineNo + ", column " + (chosen[c] + 1) + ": '" + Names.safe(cells[chosen[c]].strip(), 40)
                                + "' is not a number" + (rows.isEmpty() && header == null
                                ? " (a first row with numbers in it is data, not a header: a header holds only names)" : ""));
                    }
                    row[c] = v;
                }
                rows.add(row);
            }
        } catch (NoSuchFileException e) {
            throw new FileFormatException(file, "no such file", e);
        } catch (MalformedInputException e) {
            throw new FileFormatException(file, "not UTF-8 text; not a CSV file?", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
        if (rows.isEmpty()) {
            throw new FileFormatException(file, "no data rows; the CSV needs one row per time step");
        }
        int n = chosen.length;
        if ((long) rows.size() * n > Integer.MAX_VALUE - 8) {
            throw new FileFormatException(file, rows.size() + " rows of " + n + " columns are more values than one tensor holds");
        }
        double[] flat = new double[rows.size() * n];
        for (int t = 0; t < rows.size(); t++) {
            System.arraycopy(rows.get(t), 0, flat, t * n, n);
        }
        List<String> names = null;
        if (header != null) {
            names = new ArrayList<>();
            for (int c : chosen) {
                names.add(header.get(c));
            }
        }
        return new Table(Tensor.of(dtype, new int[] {rows.size(), n}, flat), names);
    }

    private static boolean noNumbers(String[] cells) {
        for (String cell : cells) {
            if (number(cell) != null) {
                return false;
            }
        }
        return true;
    }

    /** The 0-based indices of the chosen columns, in the order given; every column when {@code columns} is null. */
    private static int[] choose(Path file, String columns, List<String> header, int width) {
        if (columns == null) {
            int[] all = new int[width];
            for (int c = 0; c < width; c++) {
                all[c] = c;
            }
            return all;
        }
        List<Integer> picked = new ArrayList<>();
        for (String item : columns.split(",", -1)) {
            String s = item.strip();
            Matcher range = RANGE.matcher(s);
            if (NUMBER.matcher(s).matches()) {
                picked.add(columnNumber(file, s, Integer.parseInt(s), width));
            } else if (range.matches()) {
                int a = Integer.parseInt(range.group(1)), b = Integer.parseInt(range.group(2));
                if (a > b) {
                    throw new InputException("columns '" + s + "': an empty range; write the smaller column number first");
                }
                for (int c = a; c <= b; c++) {
                    picked.add(columnNumber(file, s, c, width));
                }
            } else if (s.isEmpty()) {
                throw new InputException("columns '" + columns + "': an empty name; write names or 1-based numbers separated by commas");
            } else {
                int at = header == null ? -1 : header.indexOf(s);
                if (at < 0) {
                    throw new InputException(file + ": no column named '" + s + "'; "
                            + (header == null ? "the file has no header row, so choose columns by 1-based number (1.." + width + ")"
                            : "the header has " + String.join(", ", header) + " (or choose by 1-based number, 1.." + width + ")"));
                }
                if (header.lastIndexOf(s) != at) {
                    throw new InputException(file + ": the header names two columns '" + s + "'; choose by 1-based number");
                }
                picked.add(at);
            }
        }
        int[] r = new int[picked.size()];
        for (int k = 0; k < r.length; k++) {
            r[k] = picked.get(k);
        }
        return r;
    }

    private static int columnNumber(Path file, String item, int number, int width) {
        if (number < 1 || number > width) {
            throw new InputException("columns '" + item + "': " + file + " has columns 1.." + width + " (numbered from 1)");
        }
        return number - 1;
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
