package dev.lstm4j.flink;

import dev.lstm4j.InputException;
import dev.lstm4j.Linear;
import dev.lstm4j.LstmModel;
import dev.lstm4j.LstmStepper;
import dev.lstm4j.StreamState;
import dev.lstm4j.Tensor;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.api.java.typeutils.TupleTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs an LSTM over each key's events on a keyed stream. An event is {@code (key, features)} with I features; the
 * operator emits {@code (key, step, output)} per event, where step counts the key's events from 1 and output is the
 * model's output for that step (the last layer's h_t, or the head's output when the model has one). Each key's (h, c)
 * is a {@link StreamState} in {@code ValueState}, serialized by {@link StreamStateSerializer}.
 *
 * <p>Mini-batching: events are buffered until {@code maxBatch} have arrived or {@code maxDelayMs} has passed since the
 * first, then stepped as one batched product ({@link LstmStepper}). A key's events keep their order: a buffer holding
 * two events of one key steps them in two rounds. The buffer is flushed before every checkpoint barrier
 * ({@link #prepareSnapshotPreBarrier}) and at the end of input, so every checkpoint and savepoint holds the buffer
 * empty: each event is either reflected in the checkpointed state and emitted, or replayed by the source after a
 * restore. {@code maxBatch = 1} steps every event alone.
 *
 * <p>The model travels with the job as its file's bytes (or is read from a path every task manager can see) and is
 * loaded once per JVM, shared by every slot and key ({@code Lstm} is thread-safe); each parallel instance has its own
 * stepper.
 */
public final class LstmOperator<K> extends AbstractStreamOperator<Tuple3<K, Long, float[]>>
        implements OneInputStreamOperator<Tuple2<K, float[]>, Tuple3<K, Long, float[]>>, ProcessingTimeCallback {
    private static final long serialVersionUID = 1L;
    static final String STATE_NAME = "lstm4j-state";

    private final byte[] weights;      // the model file's bytes, or null
    private final String modelPath;    // or a path every task manager can read
    private final String fileName;
    private final int maxBatch;
    private final long maxDelayMs;

    private transient ValueState<StreamState> state;
    private transient LstmStepper stepper;
    private transient Linear head;
    private transient List<K> keys;
    private transient float[] xs;       // (maxBatch, I) buffered events
    private transient boolean timerSet;
    private transient int in;

    private LstmOperator(byte[] weights, String modelPath, String fileName, int maxBatch, long maxDelayMs) {
        if (maxBatch < 1 || maxDelayMs < 0) {
            throw new InputException("LstmOperator: maxBatch must be ≥ 1 and maxDelayMs ≥ 0, got " + maxBatch + " and " + maxDelayMs);
        }
        this.weights = weights;
        this.modelPath = modelPath;
        this.fileName = fileName;
        this.maxBatch = maxBatch;
        this.maxDelayMs = maxDelayMs;
    }

    /** An operator whose model travels with the job as the bytes of its weights file ({@code fileName} gives the format). */
    public static <K> LstmOperator<K> ofBytes(byte[] weights, String fileName, int maxBatch, long maxDelayMs) {
        if (weights == null || fileName == null) {
            throw new InputException("LstmOperator.ofBytes needs the model file's bytes and its name");
        }
        Models.of(weights, fileName);  // fail on the client, not in a task, when the file is not a model
        return new LstmOperator<>(weights, null, fileName, maxBatch, maxDelayMs);
    }

    /** An operator that reads its model from {@code path} on each task manager (a shared file system or the same local path). */
    public static <K> LstmOperator<K> ofPath(String path, int maxBatch, long maxDelayMs) {
        if (path == null) {
            throw new InputException("LstmOperator.ofPath needs a path");
        }
        return new LstmOperator<>(null, path, Path.of(path).getFileName().toString(), maxBatch, maxDelayMs);
    }

    /**
     * Keys {@code events} by their first field and applies {@code operator}, with uid {@code uid} (a savepoint finds
     * the operator's state by it).
     */
    public static <K> SingleOutputStreamOperator<Tuple3<K, Long, float[]>> apply(DataStream<Tuple2<K, float[]>> events, TypeInformation<K> keyType,
                                                                                 LstmOperator<K> operator, String uid) {
        TypeInformation<Tuple3<K, Long, float[]>> out = new TupleTypeInfo<>(keyType, Types.LONG, PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO);
        return events.keyBy(e -> e.f0, keyType).transform("lstm4j", out, operator).uid(uid).name("lstm4j");
    }

    @Override
    public void open() throws Exception {
        super.open();
        state = getPartitionedState(new ValueStateDescriptor<>(STATE_NAME, StreamStateSerializer.INSTANCE));
        LstmModel model = weights != null ? Models.of(weights, fileName) : Models.of(Models.read(Path.of(modelPath)), fileName);
        stepper = new LstmStepper(model.lstm());
        head = model.head();
        in = model.lstm().config().inputSize();
        keys = new ArrayList<>(maxBatch);
        xs = new float[maxBatch * in];
    }

    @Override
    public void processElement(StreamRecord<Tuple2<K, float[]>> element) throws Exception {
        Tuple2<K, float[]> e = element.getValue();
        float[] x = e.f1;
        if (x == null || x.length != in) {
            throw new InputException("key " + e.f0 + ": expected an event of " + in + " floats (input_size), got "
                    + (x == null ? "null" : x.length) + "; check the source's schema");
        }
        System.arraycopy(x, 0, xs, keys.size() * in, in);
        keys.add(e.f0);
        if (keys.size() >= maxBatch) {
            flush();
        } else if (!timerSet && maxDelayMs > 0) {
            timerSet = true;
            getProcessingTimeService().registerTimer(getProcessingTimeService().getCurrentProcessingTime() + maxDelayMs, this);
        }
    }

    @Override
    public void onProcessingTime(long time) throws Exception {
        timerSet = false;
        flush();
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        flush();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        flush();
        super.finish();
    }

    /** Steps every buffered event: round r takes the r-th buffered event of each key, so a key's events run in order. */
    private void flush() throws Exception {
        int count = keys.size();
        if (count == 0) {
            return;
        }
        int[] round = new int[count];
        int rounds = 1;
        if (count > 1) {
            Map<K, Integer> seen = new HashMap<>();
            for (int i = 0; i < count; i++) {
                round[i] = seen.merge(keys.get(i), 1, Integer::sum) - 1;
                rounds = Math.max(rounds, round[i] + 1);
            }
        }
        int hh = stepper.lstm().config().outputHiddenSize();
        for (int r = 0; r < rounds; r++) {
            int n = 0;
            for (int i = 0; i < count; i++) {
                n += round[i] == r ? 1 : 0;
            }
            int[] idx = new int[n];
            StreamState[] states = new StreamState[n];
            float[] x = new float[n * in], out = new float[n * hh];
            for (int i = 0, j = 0; i < count; i++) {
                if (round[i] == r) {
                    idx[j] = i;
                    setCurrentKey(keys.get(i));
                    states[j] = state.value();
                    System.arraycopy(xs, i * in, x, j * in, in);
                    j++;
                }
            }
            stepper.step(states, x, out);
            float[] y = head == null ? out : head.apply(Tensor.of(new int[] {n, hh}, out)).toFloatArray();
            int width = y.length / n;
            for (int j = 0; j < n; j++) {
                K key = keys.get(idx[j]);
                setCurrentKey(key);
                state.update(states[j]);
                float[] yj = new float[width];
                System.arraycopy(y, j * width, yj, 0, width);
                output.collect(new StreamRecord<>(Tuple3.of(key, states[j].steps(), yj)));
            }
        }
        keys.clear();
    }
}
