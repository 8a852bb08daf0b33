package dev.lstm4j.cli;

import dev.lstm4j.DType;
import dev.lstm4j.FileFormatException;
import dev.lstm4j.InputException;
import dev.lstm4j.Layout;
import dev.lstm4j.LstmState;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.io.Csv;
import dev.lstm4j.internal.io.Npy;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Input options shared by commands that run a model: the data and the initial state. */
final class InputOptions {
    @Option(names = "--input", required = true, paramLabel = "X",
            description = {"Input: a CSV (one time step per row, one feature per column, one sequence; a first row of names is a header; blank lines are skipped) "
                    + "or a .npy: 3-D (B, T, I) batch-first, or (T, B, I) with --seq-first; 2-D (T, I) is one unbatched sequence."})
    Path input;

    @Option(names = "--columns", paramLabel = "C", description = {"For a CSV input: the feature columns, by header name or by number counted "
            + "from 1, ranges inclusive, in the order the model wants them: --columns value picks one column of a date,value file; "
            + "--columns 2..4 or --columns 2,3,4 the second to fourth. Default: every column."})
    String columns;

    @Option(names = "--seq-first", description = "A 3-D .npy input is (T, B, I), PyTorch's default layout, not (B, T, I).")
    boolean seqFirst;

    @Option(names = "--h0", paramLabel = "FILE", description = "Initial hidden state .npy, (L*D, B, Hh) or (L*D, Hh) when unbatched.")
    Path h0;

    @Option(names = "--c0", paramLabel = "FILE", description = "Initial cell state .npy, (L*D, B, H) or (L*D, H) when unbatched.")
    Path c0;

    @Option(names = "--lengths", paramLabel = "L",
            description = {"Each sequence's length in a padded batch: a comma list (5,2,4) or a 1-D integer .npy, one per batch row. "
                    + "As PyTorch's pack_padded_sequence: steps past a row's length are ignored, their output is 0."})
    String lengths;

    /** The input as read, and whether it came from CSV; lengths is null when not given. */
    record Loaded(Tensor input, boolean csv, Layout layout, LstmState initial, int[] lengths) {
    }

    Loaded load() {
        if ((h0 == null) != (c0 == null)) {
            throw new InputException("give both --h0 and --c0, or neither (missing " + (h0 == null ? "--h0" : "--c0") + ")");
        }
        boolean csv = !isNpy(input);
        if (!csv && columns != null) {
            throw new InputException("--columns picks columns of a CSV; " + input + " is a .npy array (slice it in NumPy: x[..., [1, 2]])");
        }
        Tensor x = csv ? Csv.read(input, DType.F64, columns).values() : floats(input);
        if (csv && seqFirst) {
            throw new InputException("--seq-first applies to 3-D .npy input; a CSV is one (T, I) sequence");
        }
        if (x.rank() == 3 || x.rank() == 2) {
            if (x.size(-1) == 0 || (x.rank() == 3 ? x.size(0) * x.size(1) : x.size(0)) == 0) {
                throw new InputException(input + ": input of shape " + Tensor.shapeString(x.shape()) + " is empty; give at least one time step");
            }
        } else {
            throw new InputException(input + ": expected a 3-D batch (B, T, I) or a 2-D sequence (T, I), got shape "
                    + Tensor.shapeString(x.shape()));
        }
        LstmState initial = h0 == null ? null : new LstmState(floats(h0), floats(c0));
        return new Loaded(x, csv, seqFirst ? Layout.SEQ_FIRST : Layout.BATCH_FIRST, initial, Lengths.parse(lengths));
    }

    /** A float .npy; integer arrays (readable for --lengths) are refused here, as PyTorch refuses them. */
    static Tensor floats(Path file) {
        Tensor t = Npy.read(file);
        if (!t.dtype().isFloat()) {
            throw new InputException(file + ": array of " + t.dtype().torchName() + "; expected float32 or float64"
                    + " (convert with x.astype(numpy.float32))");
        }
        return t;
    }

    /** By content: the .npy magic, whatever the file's name. */
    static boolean isNpy(Path file) {
        byte[] head = new byte[6];
        try (InputStream in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, head.length);
            return n == head.length && Npy.sniff(head);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new FileFormatException(file, "no such file", e);
        } catch (IOException e) {
            throw new FileFormatException(file, "cannot read: " + e.getMessage(), e);
        }
    }
}
