package dev.lstm4j.nn;

import dev.lstm4j.DType;
import dev.lstm4j.Precision;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Validate;

/**
 * {@code nn.Embedding} at inference: token ids in, the weight's rows out. As in PyTorch, {@code padding_idx} changes
 * only training (its row gets no gradient); at inference its id gives whatever row the weights hold, so it needs no
 * setting here. {@code max_norm} (which rescales rows in place during forward) is not supported. Immutable and
 * thread-safe.
 *
 * <p>Shapes: weight {@code (N, E)}; ids {@code (...)} of int64 or int32 give {@code (..., E)}.
 */
public final class Embedding {
    private final Tensor weight;
    private final Precision precision;

    /** @throws dev.lstm4j.ModelException when the weight is not a 2-D float tensor */
    public Embedding(Tensor weight) {
        Validate.model(weight != null && weight.rank() == 2 && weight.dtype().isFloat(),
                "embedding weight: expected a 2-D float (num_embeddings, embedding_dim) tensor, got " + weight);
        this.weight = weight;
        this.precision = weight.dtype() == DType.F64 ? Precision.F64 : Precision.F32;
    }

    public int numEmbeddings() {
        return weight.size(0);
    }

    public int embeddingDim() {
        return weight.size(1);
    }

    public Tensor weight() {
        return weight;
    }

    public Precision precision() {
        return precision;
    }

    /** {@code Embedding(num_embeddings=N, embedding_dim=E)}. */
    public String describe() {
        return "Embedding(" + numEmbeddings() + ", " + embeddingDim() + ")";
    }

    /**
     * The rows for {@code ids}, in this embedding's precision.
     *
     * @throws dev.lstm4j.InputException when ids are not integers (int64, int32, int16, int8, uint8) or one is outside
     *                                   {@code 0..N-1}; the message names its position and value
     */
    public Tensor lookup(Tensor ids) {
        Validate.input(ids != null, "ids are null");
        DType d = ids.dtype();
        Validate.input(d == DType.I64 || d == DType.I32 || d == DType.I16 || d == DType.I8 || d == DType.U8,
                "embedding input: expected integer token ids (int64 or int32, as nn.Embedding takes), got " + d.torchName()
                        + " of shape " + Tensor.shapeString(ids.shape()) + (d.isFloat() ? "; save the ids with x.astype(numpy.int64)" : ""));
        int n = ids.elementCount();
        int e = embeddingDim();
        int rows = numEmbeddings();
        int[] shape = ids.shape();
        for (int k = 0; k < n; k++) {
            double id = ids.at(k);
            if (!(id >= 0 && id < rows)) {
                throw new dev.lstm4j.InputException("embedding input: id " + (long) id + " at position " + position(shape, k)
                        + " is out of range; this Embedding has " + rows + " rows (ids 0.." + (rows - 1) + ")");
            }
        }
        int[] outShape = java.util.Arrays.copyOf(shape, shape.length + 1);
        outShape[shape.length] = e;
        if (precision == Precision.F64) {
            double[] out = new double[Math.multiplyExact(n, e)];
            for (int k = 0; k < n; k++) {
                int row = (int) ids.at(k);
                for (int j = 0; j < e; j++) {
                    out[k * e + j] = weight.at(row * e + j);
                }
            }
            return Tensor.wrap(DType.F64, outShape, out);
        }
        float[] out = new float[Math.multiplyExact(n, e)];
        Tensor w32 = weight.to(DType.F32);
        for (int k = 0; k < n; k++) {
            w32.copyFloats((int) ids.at(k) * e, out, k * e, e);
        }
        return Tensor.wrap(DType.F32, outShape, out);
    }

    private static String position(int[] shape, int flat) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        StringBuilder b = new StringBuilder("[");
        for (int d = 0; d < idx.length; d++) {
            b.append(d > 0 ? ", " : "").append(idx[d]);
        }
        return b.append(']').toString();
    }
}
