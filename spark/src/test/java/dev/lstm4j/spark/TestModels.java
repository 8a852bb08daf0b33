package dev.lstm4j.spark;

import dev.lstm4j.Lstm4j;
import dev.lstm4j.Tensor;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** A random nn.LSTM written as a safetensors file, as torch would save `lstm.state_dict()` under the prefix "lstm.". */
final class TestModels {
    private TestModels() {
    }

    static Path write(Path file, int input, int hidden, int layers, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (int l = 0; l < layers; l++) {
            int in = l == 0 ? input : hidden;
            t.put("lstm.weight_ih_l" + l, random(rnd, 4 * hidden, in));
            t.put("lstm.weight_hh_l" + l, random(rnd, 4 * hidden, hidden));
            t.put("lstm.bias_ih_l" + l, random(rnd, 4 * hidden));
            t.put("lstm.bias_hh_l" + l, random(rnd, 4 * hidden));
        }
        Lstm4j.writeSafetensors(file, t, Map.of());
        return file;
    }

    static Tensor random(SplittableRandom rnd, int... shape) {
        float[] v = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextDouble() * 2 - 1) * 0.4f;
        }
        return Tensor.of(shape, v);
    }
}
