package dev.lstm4j.cli;

import dev.lstm4j.DType;
import dev.lstm4j.InputException;
import dev.lstm4j.Layout;
import dev.lstm4j.LstmState;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.io.Csv;
import dev.lstm4j.internal.io.Npy;

/**
 * The input of a model that starts with an embedding: token ids, an integer .npy ({@code (B, T)}, {@code (T, B)} with
 * --seq-first, or {@code (T,)}), or a CSV with one id per row (one sequence).
 */
final class TokenInput {
    private TokenInput() {
    }

    static InputOptions.Loaded load(InputOptions o) {
        if ((o.h0 == null) != (o.c0 == null)) {
            throw new InputException("give both --h0 and --c0, or neither (missing " + (o.h0 == null ? "--h0" : "--c0") + ")");
        }
        boolean csv = !InputOptions.isNpy(o.input);
        Tensor ids;
        if (csv) {
            Tensor t = Csv.read(o.input, DType.F64).values();
            if (t.rank() != 2 || t.size(1) != 1) {
                throw new InputException(o.input + ": a model with an embedding reads one token id per CSV row, got "
                        + (t.rank() == 2 ? t.size(1) + " columns" : "shape " + Tensor.shapeString(t.shape())));
            }
            double[] v = t.toDoubleArray();
            for (int k = 0; k < v.length; k++) {
                if (v[k] != Math.rint(v[k])) {
                    throw new InputException(o.input + ": row " + (k + 1) + " holds " + v[k] + "; token ids are whole numbers");
                }
            }
            ids = Tensor.of(DType.I64, new int[] {v.length}, v);
        } else {
            ids = Npy.read(o.input);
            if (ids.dtype().isFloat()) {
                throw new InputException(o.input + ": array of " + ids.dtype().torchName() + "; this model starts with an nn.Embedding,"
                        + " so it takes integer token ids (save them with x.astype(numpy.int64))");
            }
            if (ids.rank() != 1 && ids.rank() != 2) {
                throw new InputException(o.input + ": expected token ids (B, T), (T, B) with --seq-first, or (T,), got shape "
                        + Tensor.shapeString(ids.shape()));
            }
        }
        if (ids.elementCount() == 0) {
            throw new InputException(o.input + ": input of shape " + Tensor.shapeString(ids.shape()) + " is empty; give at least one time step");
        }
        LstmState initial = o.h0 == null ? null : new LstmState(InputOptions.floats(o.h0), InputOptions.floats(o.c0));
        return new InputOptions.Loaded(ids, csv, o.seqFirst ? Layout.SEQ_FIRST : Layout.BATCH_FIRST, initial, Lengths.parse(o.lengths));
    }
}
