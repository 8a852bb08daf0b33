package dev.lstm4j.spark;

import dev.lstm4j.ForwardOptions;
import dev.lstm4j.Linear;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmModel;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.Tensor;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import scala.jdk.javaapi.CollectionConverters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Scores one partition: reads up to 16 batches of rows, sorts them by length so rows of similar length share a batch,
 * runs each batch as one packed forward pass, and returns the rows in their original order with the output appended.
 * Serializable: it is what Spark ships to the executors (the model itself is not; see {@link Models}).
 */
final class PartitionScorer implements FlatMapFunction<Iterator<Row>, Row> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<byte[]> weights;  // or null: read `path` on the executor
    private final String path, fileName;
    private final int inputIndex, lengthsIndex, featureCount, batch;
    private final boolean nested, featureMajor, sequences;

    PartitionScorer(Broadcast<byte[]> weights, String path, String fileName, int inputIndex, boolean nested, boolean featureMajor,
                    int lengthsIndex, int featureCount, int batch, boolean sequences) {
        this.weights = weights;
        this.path = path;
        this.fileName = fileName;
        this.inputIndex = inputIndex;
        this.nested = nested;
        this.featureMajor = featureMajor;
        this.lengthsIndex = lengthsIndex;
        this.featureCount = featureCount;
        this.batch = batch;
        this.sequences = sequences;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        LstmModel model = Models.of(weights != null ? weights.value() : Models.read(Path.of(path)), fileName);
        return new Iterator<>() {
            private final List<Row> out = new ArrayList<>();
            private int next;

            @Override
            public boolean hasNext() {
                if (next < out.size()) {
                    return true;
                }
                out.clear();
                next = 0;
                List<Row> chunk = new ArrayList<>();
                while (rows.hasNext() && chunk.size() < 16 * batch) {
                    chunk.add(rows.next());
                }
                if (chunk.isEmpty()) {
                    return false;
                }
                out.addAll(score(model, chunk));
                return true;
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return out.get(next++);
            }
        };
    }

    /** One row's sequence as (T, I) floats, step after step. */
    private float[] sequence(Row row, int in, int[] steps) {
        if (row.isNullAt(inputIndex)) {
            throw new IllegalArgumentException("a row has a null sequence; filter null rows out before scoring");
        }
        float[] x;
        int t;
        if (nested) {
            List<?> outer = row.getList(inputIndex);
            int a = outer.size(), b = a == 0 ? 0 : list(outer.get(0)).size();
            t = featureMajor ? b : a;
            int features = featureMajor ? a : b;
            if (features != in) {
                throw new IllegalArgumentException("a row has " + features + " features per step, the model expects " + in
                        + (featureMajor ? " (layout feature_major: one inner array per feature)" : " (layout time_major: one inner array per step)"));
            }
            x = new float[t * in];
            for (int i = 0; i < a; i++) {
                List<?> inner = list(outer.get(i));
                if (inner.size() != b) {
                    throw new IllegalArgumentException("a row's inner arrays have different lengths (" + b + " and " + inner.size() + ")");
                }
                for (int j = 0; j < b; j++) {
                    float v = ((Number) inner.get(j)).floatValue();
                    x[featureMajor ? j * in + i : i * in + j] = v;
                }
            }
        } else {
            List<?> flat = row.getList(inputIndex);
            int features = featureCount > 0 ? featureCount : in;
            if (features != in || flat.size() % in != 0) {
                throw new IllegalArgumentException("a row has " + flat.size() + " values, not a multiple of " + features
                        + " features per step (featureCount); the model expects " + in);
            }
            t = flat.size() / in;
            x = new float[flat.size()];
            for (int k = 0; k < x.length; k++) {
                float v = ((Number) flat.get(k)).floatValue();
                x[featureMajor ? (k % t) * in + k / t : k] = v;
            }
        }
        int len = t;
        if (lengthsIndex >= 0 && !row.isNullAt(lengthsIndex)) {
            len = (int) ((Number) row.get(lengthsIndex)).longValue();
            if (len < 1 || len > t) {
                throw new IllegalArgumentException("a row's length is " + len + ", expected 1.." + t + " (its sequence has " + t + " steps)");
            }
        }
        if (t == 0) {
            throw new IllegalArgumentException("a row has an empty sequence; filter empty rows out before scoring");
        }
        steps[0] = len;
        return x;
    }

    private List<Row> score(LstmModel model, List<Row> chunk) {
        LstmConfig cfg = model.lstm().config();
        int in = cfg.inputSize(), width = cfg.outputSize(), n = chunk.size();
        float[][] xs = new float[n][];
        int[] len = new int[n];
        int[] tmp = new int[1];
        Integer[] order = new Integer[n];
        for (int r = 0; r < n; r++) {
            xs[r] = sequence(chunk.get(r), in, tmp);
            len[r] = tmp[0];
            order[r] = r;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(len[a], len[b]));
        Object[] results = new Object[n];
        Linear head = model.head();
        for (int b0 = 0; b0 < n; b0 += batch) {
            int bn = Math.min(batch, n - b0), maxT = len[order[b0 + bn - 1]];
            float[] x = new float[bn * maxT * in];
            int[] lengths = new int[bn];
            for (int i = 0; i < bn; i++) {
                int r = order[b0 + i];
                lengths[i] = len[r];
                System.arraycopy(xs[r], 0, x, i * maxT * in, len[r] * in);
            }
            LstmOutput o = model.lstm().forward(Tensor.of(new int[] {bn, maxT, in}, x), ForwardOptions.defaults().withLengths(lengths));
            float[] y = o.output().toFloatArray();  // (bn, maxT, width)
            for (int i = 0; i < bn; i++) {
                int r = order[b0 + i];
                if (sequences) {
                    float[][] steps = new float[len[r]][];
                    for (int t = 0; t < len[r]; t++) {
                        steps[t] = apply(head, Arrays.copyOfRange(y, (i * maxT + t) * width, (i * maxT + t + 1) * width));
                    }
                    results[r] = steps;
                } else {
                    int t = len[r] - 1;
                    results[r] = apply(head, Arrays.copyOfRange(y, (i * maxT + t) * width, (i * maxT + t + 1) * width));
                }
            }
        }
        List<Row> out = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            Row row = chunk.get(r);
            Object[] values = new Object[row.length() + 1];
            for (int c = 0; c < row.length(); c++) {
                values[c] = row.get(c);
            }
            values[row.length()] = sequences ? toLists((float[][]) results[r]) : toList((float[]) results[r]);
            out.add(RowFactory.create(values));
        }
        return out;
    }

    private static float[] apply(Linear head, float[] h) {
        return head == null ? h : head.apply(Tensor.of(new int[] {1, h.length}, h)).toFloatArray();
    }

    /** An array column's value: Spark hands Rows' arrays over as Scala Seqs (or Java lists, for rows built in Java). */
    private static List<?> list(Object o) {
        if (o instanceof List) {
            return (List<?>) o;
        }
        if (o instanceof scala.collection.Seq) {
            return CollectionConverters.asJava((scala.collection.Seq<?>) o);
        }
        throw new IllegalArgumentException("expected an array, got " + (o == null ? "null" : o.getClass().getName()));
    }

    /** Arrays go back to Spark as Scala Seqs, which a Row's encoder takes. */
    private static scala.collection.immutable.Seq<Object> toList(float[] v) {
        List<Object> l = new ArrayList<>(v.length);
        for (float f : v) {
            l.add(f);
        }
        return CollectionConverters.asScala(l).toList();
    }

    private static scala.collection.immutable.Seq<Object> toLists(float[][] v) {
        List<Object> l = new ArrayList<>(v.length);
        for (float[] f : v) {
            l.add(toList(f));
        }
        return CollectionConverters.asScala(l).toList();
    }
}
