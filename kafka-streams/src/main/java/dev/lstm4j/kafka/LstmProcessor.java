package dev.lstm4j.kafka;

import dev.lstm4j.InputException;
import dev.lstm4j.Linear;
import dev.lstm4j.LstmModel;
import dev.lstm4j.LstmStepper;
import dev.lstm4j.StreamState;
import dev.lstm4j.Tensor;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

import java.nio.file.Path;
import java.util.Set;

/**
 * Runs an LSTM over each key's events: an event is one time step's features (I floats), the output is the model's
 * output for that step (the last layer's h_t, or the head's output when the model has one). Each key's (h, c) lives
 * in a {@code KeyValueStore<K, StreamState>}, logged to a changelog topic, so a restarted or moved task continues every
 * key where it stopped. A key's events are processed in the order of its partition, so each key's outputs are those
 * of {@code Lstm.forward} over its events.
 *
 * <p>Build it with {@link #supplier}, which also declares the store:
 * <pre>{@code
 * builder.stream("events", Consumed.with(Serdes.String(), LstmSerdes.floatArray()))
 *        .process(LstmProcessor.supplier(Path.of("model.safetensors"), "lstm-state", Serdes.String()))
 *        .to("outputs", Produced.with(Serdes.String(), LstmSerdes.floatArray()));
 * }</pre>
 *
 * <p>The model is loaded once per JVM (shared by every task, keyed by the file's hash); each task has its own
 * {@link LstmStepper}, as Kafka Streams runs a task on one thread.
 */
public final class LstmProcessor<K> implements Processor<K, float[], K, float[]> {
    private final byte[] weights;
    private final String fileName;
    private final String storeName;
    private ProcessorContext<K, float[]> context;
    private KeyValueStore<K, StreamState> store;
    private LstmStepper stepper;
    private Linear head;
    private final StreamState[] one = new StreamState[1];
    private float[] out;

    LstmProcessor(byte[] weights, String fileName, String storeName) {
        this.weights = weights;
        this.fileName = fileName;
        this.storeName = storeName;
    }

    /** A supplier for the model file at {@code model} (read now, on the machine that builds the topology). */
    public static <K> ProcessorSupplier<K, float[], K, float[]> supplier(Path model, String storeName, Serde<K> keySerde) {
        return supplier(Models.read(model), model.getFileName().toString(), storeName, keySerde);
    }

    /**
     * A supplier for a model given as the bytes of its weights file; {@code fileName}'s extension says the format
     * ({@code .safetensors}, {@code .pt}, {@code .npz}).
     */
    public static <K> ProcessorSupplier<K, float[], K, float[]> supplier(byte[] weights, String fileName, String storeName, Serde<K> keySerde) {
        if (weights == null || fileName == null || storeName == null || keySerde == null) {
            throw new InputException("LstmProcessor.supplier needs the model bytes, its file name, a store name and a key serde");
        }
        Models.of(weights, fileName);  // fail now, not in a task, when the file is not a model
        return new ProcessorSupplier<>() {
            @Override
            public Processor<K, float[], K, float[]> get() {
                return new LstmProcessor<>(weights, fileName, storeName);
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                return Set.of(storeBuilder(storeName, keySerde));
            }
        };
    }

    /** The persistent, changelogged store a processor keeps its states in. */
    public static <K> StoreBuilder<KeyValueStore<K, StreamState>> storeBuilder(String storeName, Serde<K> keySerde) {
        return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(storeName), keySerde, LstmSerdes.streamState());
    }

    @Override
    public void init(ProcessorContext<K, float[]> context) {
        this.context = context;
        this.store = context.getStateStore(storeName);
        LstmModel model = Models.of(weights, fileName);
        this.stepper = new LstmStepper(model.lstm());
        this.head = model.head();
        this.out = new float[model.lstm().config().outputHiddenSize()];
    }

    @Override
    public void process(Record<K, float[]> record) {
        float[] x = record.value();
        int in = stepper.lstm().config().inputSize();
        if (x == null || x.length != in) {
            throw new InputException("key " + record.key() + ": expected an event of " + in + " floats (input_size), got "
                    + (x == null ? "null" : x.length) + "; check the producer's schema");
        }
        one[0] = store.get(record.key());
        stepper.step(one, x, out);
        store.put(record.key(), one[0]);
        float[] y = head == null ? out.clone() : head.apply(Tensor.of(new int[] {1, out.length}, out)).toFloatArray();
        context.forward(record.withValue(y));
    }
}
