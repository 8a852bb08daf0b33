package dev.lstm4j;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The thread-safety the Javadoc of {@link Lstm}, {@link LstmModel} and {@link Lstm4j} states: one model shared by
 * 8 threads gives the same bits as the same calls made one after another.
 */
class ConcurrencyTest {
    private static final long SEED = 20261202L;

    static Lstm randomLstm(LstmConfig config, SplittableRandom rnd, EngineChoice choice) {
        List<CellWeights> cells = new ArrayList<>();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (int dir = 0; dir < config.directions(); dir++) {
                int in = config.layerInputSize(layer), h4 = 4 * config.hiddenSize();
                cells.add(new CellWeights(random(rnd, h4, in), random(rnd, h4, config.outputHiddenSize()),
                        config.bias() ? random(rnd, h4) : null, config.bias() ? random(rnd, h4) : null,
                        config.projSize() > 0 ? random(rnd, config.projSize(), config.hiddenSize()) : null));
            }
        }
        return new Lstm(config, cells, choice);
    }

    static Tensor random(SplittableRandom rnd, int... shape) {
        float[] v = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextDouble() * 2 - 1) * 0.5f;
        }
        return Tensor.of(shape, v);
    }

    @Test
    void eightThreadsSharingOneModelGiveTheSequentialBits() throws Exception {
        System.out.println("ConcurrencyTest seed " + SEED);
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (EngineChoice choice : EngineChoice.values()) {
            LstmConfig config = new LstmConfig(5, 24, 2, false, 0, true);
            Lstm lstm = randomLstm(config, rnd, choice);
            LstmModel model = new LstmModel(lstm, new Linear(random(rnd, 3, 24), random(rnd, 3)), "", "", false, List.of());
            int calls = 32;
            List<Tensor> inputs = new ArrayList<>();
            List<int[]> lengths = new ArrayList<>();
            for (int i = 0; i < calls; i++) {
                int batch = 1 + rnd.nextInt(20), steps = 1 + rnd.nextInt(12);
                inputs.add(random(rnd, batch, steps, 5));
                int[] len = new int[batch];
                for (int b = 0; b < batch; b++) {
                    len[b] = 1 + rnd.nextInt(steps);
                }
                lengths.add(i % 3 == 0 ? len : null);
            }
            List<LstmModel.Result> sequential = new ArrayList<>();
            for (int i = 0; i < calls; i++) {
                sequential.add(model.forward(inputs.get(i), ForwardOptions.defaults().withLengths(lengths.get(i))));
            }
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Callable<LstmModel.Result>> tasks = new ArrayList<>();
                for (int round = 0; round < 4; round++) {
                    for (int i = 0; i < calls; i++) {
                        int k = i;
                        tasks.add(() -> model.forward(inputs.get(k), ForwardOptions.defaults().withLengths(lengths.get(k))));
                    }
                }
                List<Future<LstmModel.Result>> results = pool.invokeAll(tasks);
                for (int n = 0; n < results.size(); n++) {
                    LstmModel.Result got = results.get(n).get();
                    LstmModel.Result want = sequential.get(n % calls);
                    String what = choice + " call " + (n % calls) + " round " + n / calls;
                    assertArrayEquals(want.lstm().output().toFloatArray(), got.lstm().output().toFloatArray(), what + " output");
                    assertArrayEquals(want.lstm().hN().toFloatArray(), got.lstm().hN().toFloatArray(), what + " h_n");
                    assertArrayEquals(want.lstm().cN().toFloatArray(), got.lstm().cN().toFloatArray(), what + " c_n");
                    assertArrayEquals(want.head().toFloatArray(), got.head().toFloatArray(), what + " head");
                }
            } finally {
                pool.shutdown();
                assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS));
            }
            assertEquals(choice == EngineChoice.FAST, lstm.usesFastPath());
        }
    }
}
