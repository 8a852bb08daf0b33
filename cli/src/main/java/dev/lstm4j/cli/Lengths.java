package dev.lstm4j.cli;

import dev.lstm4j.InputException;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.io.Npy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/** {@code --lengths}: a comma list or a 1-D .npy of whole numbers, one per batch row. */
final class Lengths {
    private static final Pattern LIST = Pattern.compile("\\s*\\d+(\\s*,\\s*\\d+)*\\s*,?\\s*");

    private Lengths() {
    }

    /** The lengths, or null when {@code text} is null; range checks are the model's (see Lstm.forward). */
    static int[] parse(String text) {
        if (text == null) {
            return null;
        }
        if (LIST.matcher(text).matches()) {
            String[] parts = text.split(",");
            int n = parts[parts.length - 1].isBlank() ? parts.length - 1 : parts.length;
            int[] r = new int[n];
            for (int k = 0; k < n; k++) {
                try {
                    r[k] = Integer.parseInt(parts[k].strip());
                } catch (NumberFormatException e) {
                    throw Causes.keep(new InputException("--lengths: " + parts[k].strip() + " is too large for a sequence length"), e);
                }
            }
            return r;
        }
        Path file = Path.of(text);
        if (!Files.isRegularFile(file)) {
            throw new InputException("--lengths: '" + text + "' is neither a comma list of whole numbers (e.g. 5,2,4) nor an existing .npy file");
        }
        Tensor t = Npy.read(file);
        if (t.rank() != 1) {
            throw new InputException("--lengths " + file + ": expected a 1-D array (B,), one length per batch row, got shape "
                    + Tensor.shapeString(t.shape()));
        }
        int[] r = new int[t.elementCount()];
        for (int k = 0; k < r.length; k++) {
            double v = t.at(k);
            if (v != Math.rint(v) || Math.abs(v) > Integer.MAX_VALUE) {
                throw new InputException("--lengths " + file + ": element " + k + " is " + v + ", not a whole number");
            }
            r[k] = (int) v;
        }
        return r;
    }
}
