package dev.lstm4j.kafka;

import dev.lstm4j.Lstm4j;
import dev.lstm4j.LstmModel;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.StreamState;
import dev.lstm4j.Tensor;
import dev.lstm4j.Tolerance;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The processor in a {@link TopologyTestDriver}: each key's outputs equal {@code Lstm.forward} over that key's events,
 * and a second instance whose store is rebuilt from the first one's changelog records continues every key.
 */
class LstmProcessorTest {
    private static final int I = 6, H = 20, KEYS = 12;
    private static final String STORE = "lstm-state";

    @TempDir
    Path dir;

    private Topology topology(Path model) {
        StreamsBuilder b = new StreamsBuilder();
        b.stream("events", Consumed.with(Serdes.String(), LstmSerdes.floatArray()))
                .process(LstmProcessor.supplier(model, STORE, Serdes.String()))
                .to("outputs", Produced.with(Serdes.String(), LstmSerdes.floatArray()));
        return b.build();
    }

    private Properties props(String stateDir) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "lstm4j-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        return p;
    }

    /** Interleaved events: key k has len[k] events, the keys' events shuffled but each key's kept in order. */
    private static List<KeyValue<String, float[]>> events(SplittableRandom rnd, int[] len) {
        List<KeyValue<String, float[]>> all = new ArrayList<>();
        int[] next = new int[len.length];
        int total = 0;
        for (int l : len) {
            total += l;
        }
        for (int e = 0; e < total; e++) {
            int k;
            do {
                k = rnd.nextInt(len.length);
            } while (next[k] == len[k]);
            next[k]++;
            float[] x = new float[I];
            for (int i = 0; i < I; i++) {
                x[i] = (float) (rnd.nextDouble() * 2 - 1);
            }
            all.add(KeyValue.pair("key-" + k, x));
        }
        return all;
    }

    private static Map<String, List<float[]>> byKey(List<KeyValue<String, float[]>> records) {
        Map<String, List<float[]>> m = new LinkedHashMap<>();
        for (KeyValue<String, float[]> r : records) {
            m.computeIfAbsent(r.key, k -> new ArrayList<>()).add(r.value);
        }
        return m;
    }

    private static Tensor stack(List<float[]> rows) {
        int w = rows.get(0).length;
        float[] v = new float[rows.size() * w];
        for (int t = 0; t < rows.size(); t++) {
            System.arraycopy(rows.get(t), 0, v, t * w, w);
        }
        return Tensor.of(new int[] {rows.size(), w}, v);
    }

    private static void assertMatchesForward(LstmModel model, Map<String, List<float[]>> inputs, Map<String, List<float[]>> outputs, String seed) {
        assertEquals(inputs.keySet(), outputs.keySet(), "every key has outputs");
        Tolerance tol = new Tolerance(2e-7 * (I + H + 3) * 10);
        for (String key : inputs.keySet()) {
            LstmOutput expected = model.lstm().forward(stack(inputs.get(key)));
            assertEquals(inputs.get(key).size(), outputs.get(key).size(), key + ": one output per event");
            Tolerance.Report r = tol.check(seed + " " + key, expected.output(), stack(outputs.get(key)));
            assertTrue(r.ok(), r::toString);
        }
    }

    @Test
    void eachKeysOutputsEqualForwardOverItsEvents() {
        long seed = new SplittableRandom().nextLong();
        System.out.println("LstmProcessorTest seed " + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        Path model = TestModels.write(dir.resolve("model.safetensors"), I, H, 2, seed);
        int[] len = new int[KEYS];
        for (int k = 0; k < KEYS; k++) {
            len[k] = 1 + rnd.nextInt(10);
        }
        List<KeyValue<String, float[]>> events = events(rnd, len);
        try (TopologyTestDriver driver = new TopologyTestDriver(topology(model), props(dir.resolve("state").toString()))) {
            TestInputTopic<String, float[]> in = driver.createInputTopic("events", Serdes.String().serializer(), LstmSerdes.floatArray().serializer());
            TestOutputTopic<String, float[]> out = driver.createOutputTopic("outputs", Serdes.String().deserializer(), LstmSerdes.floatArray().deserializer());
            in.pipeKeyValueList(events);
            Map<String, List<float[]>> outputs = byKey(out.readKeyValuesToList());
            LstmModel m = Lstm4j.load(model);
            assertMatchesForward(m, byKey(events), outputs, "seed " + seed);
            KeyValueStore<String, StreamState> store = driver.getKeyValueStore(STORE);
            for (int k = 0; k < KEYS; k++) {
                assertEquals(len[k], store.get("key-" + k).steps(), "key-" + k + " steps");
            }
        }
    }

    @Test
    void storeRebuiltFromTheChangelogContinuesEveryKey() throws Exception {
        long seed = new SplittableRandom().nextLong();
        System.out.println("LstmProcessorTest changelog seed " + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        Path model = TestModels.write(dir.resolve("model.safetensors"), I, H, 1, seed);
        int[] len = new int[KEYS];
        for (int k = 0; k < KEYS; k++) {
            len[k] = 2 + rnd.nextInt(9);
        }
        List<KeyValue<String, float[]>> events = events(rnd, len);
        int cut = events.size() / 2;
        Map<String, List<float[]>> outputs = new HashMap<>();
        List<TestRecord<String, StreamState>> changelog;
        try (TopologyTestDriver first = new TopologyTestDriver(topology(model), props(dir.resolve("state-1").toString()))) {
            first.createInputTopic("events", Serdes.String().serializer(), LstmSerdes.floatArray().serializer()).pipeKeyValueList(events.subList(0, cut));
            TestOutputTopic<String, float[]> out = first.createOutputTopic("outputs", Serdes.String().deserializer(), LstmSerdes.floatArray().deserializer());
            out.readKeyValuesToList().forEach(kv -> outputs.computeIfAbsent(kv.key, k -> new ArrayList<>()).add(kv.value));
            // the store's changelog topic, as the broker would hold it
            changelog = first.createOutputTopic("lstm4j-test-" + STORE + "-changelog", Serdes.String().deserializer(),
                    LstmSerdes.streamState().deserializer()).readRecordsToList();
        }
        assertEquals(cut, changelog.size(), "one changelog record per event");
        // a new instance with an empty state directory: its store is restored from the changelog (latest value per key)
        Path fresh = Files.createDirectories(dir.resolve("state-2"));
        try (TopologyTestDriver second = new TopologyTestDriver(topology(model), props(fresh.toString()))) {
            KeyValueStore<String, StreamState> store = second.getKeyValueStore(STORE);
            assertEquals(0, store.approximateNumEntries());
            for (TestRecord<String, StreamState> r : changelog) {
                store.put(r.key(), r.value());
            }
            second.createInputTopic("events", Serdes.String().serializer(), LstmSerdes.floatArray().serializer()).pipeKeyValueList(events.subList(cut, events.size()));
            TestOutputTopic<String, float[]> out = second.createOutputTopic("outputs", Serdes.String().deserializer(), LstmSerdes.floatArray().deserializer());
            out.readKeyValuesToList().forEach(kv -> outputs.computeIfAbsent(kv.key, k -> new ArrayList<>()).add(kv.value));
            for (int k = 0; k < KEYS; k++) {
                assertEquals(len[k], store.get("key-" + k).steps(), "key-" + k + " steps after restore");
            }
        }
        Map<String, List<float[]>> ordered = new LinkedHashMap<>();
        byKey(events).keySet().forEach(k -> ordered.put(k, outputs.get(k)));
        assertMatchesForward(Lstm4j.load(model), byKey(events), ordered, "seed " + seed);
    }

    @Test
    void wrongEventWidthFailsWithTheExpectedSize() {
        Path model = TestModels.write(dir.resolve("model.safetensors"), I, H, 1, 3);
        try (TopologyTestDriver driver = new TopologyTestDriver(topology(model), props(dir.resolve("state").toString()))) {
            TestInputTopic<String, float[]> in = driver.createInputTopic("events", Serdes.String().serializer(), LstmSerdes.floatArray().serializer());
            Exception e = assertThrows(Exception.class, () -> in.pipeInput("k", new float[I + 1]));
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            assertTrue(root.getMessage().contains("expected an event of " + I + " floats"), root.getMessage());
        }
    }

    @Test
    void stateSerdeRoundTrips() {
        Path model = TestModels.write(dir.resolve("model.safetensors"), I, H, 1, 4);
        dev.lstm4j.LstmStepper stepper = new dev.lstm4j.LstmStepper(Lstm4j.load(model).lstm());
        StreamState[] s = {null};
        stepper.step(s, new float[I], null);
        byte[] bytes = LstmSerdes.streamState().serializer().serialize("t", s[0]);
        assertEquals(s[0], LstmSerdes.streamState().deserializer().deserialize("t", bytes));
        float[] v = {1.5f, -2f, Float.NaN};
        assertArrayEquals(v, LstmSerdes.floatArray().deserializer().deserialize("t", LstmSerdes.floatArray().serializer().serialize("t", v)));
    }
}
