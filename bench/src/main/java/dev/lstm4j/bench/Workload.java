package dev.lstm4j.bench;

import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmModel;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.io.ModelLoader;
import dev.lstm4j.internal.io.Npy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * The workloads of issue 5 (float32), with the files {@code bench/make_models.py} wrote for them under
 * {@code -Dlstm4j.bench.models} (default {@code bench/target/models}).
 *
 * <p>Legend: B batch, T steps, I input, H hidden, P projection, L layers, D directions.
 */
public enum Workload {
    W1("seed", 2, 3, 1, false, 0, 3, 1, false),
    W2("stream", 32, 128, 1, false, 0, 1, 1, true),
    W3("sequence", 64, 256, 2, false, 0, 100, 1, false),
    W4("throughput", 128, 512, 1, false, 0, 100, 64, false),
    W5("bidir-proj", 80, 256, 3, true, 128, 200, 8, false),
    // the large sizes of issue 12 (bench/compare.sh times them with -p workload=L1,...)
    L1("h2048-b1", 64, 2048, 1, false, 0, 50, 1, false),
    L2("h1024-b64", 64, 1024, 1, false, 0, 50, 64, false),
    L3("h2048-b64", 64, 2048, 1, false, 0, 25, 64, false),
    L4("h512-b8", 64, 512, 1, false, 0, 100, 8, false),
    L5("h1024-b8", 64, 1024, 1, false, 0, 100, 8, false);

    public final String label;
    public final LstmConfig config;
    /** Steps per timed call: T for a forward pass, 1 for a streaming step. */
    public final int steps;
    public final int batch;
    public final boolean stream;

    Workload(String label, int in, int hidden, int layers, boolean bidir, int proj, int steps, int batch, boolean stream) {
        this.label = label;
        this.config = new LstmConfig(in, hidden, layers, bidir, proj, true);
        this.steps = steps;
        this.batch = batch;
        this.stream = stream;
    }

    /** Multiply-adds × 2 of one timed call: the gate products and the projection; the element-wise math is not counted. */
    public double flops() {
        LstmConfig c = config;
        double perRowStep = 0;
        for (int l = 0; l < c.numLayers(); l++) {
            double cell = 2.0 * 4 * c.hiddenSize() * (c.layerInputSize(l) + c.outputHiddenSize());
            if (c.projSize() > 0) {
                cell += 2.0 * c.hiddenSize() * c.projSize();
            }
            perRowStep += c.directions() * cell;
        }
        return perRowStep * batch * steps;
    }

    public Path dir() {
        Path root = Paths.get(System.getProperty("lstm4j.bench.models", "bench/target/models"));
        Path d = root.resolve(name());
        if (!Files.isRegularFile(d.resolve("model.safetensors"))) {
            throw new IllegalStateException(d + "/model.safetensors is missing: run /usr/bin/python3 bench/make_models.py --out " + root
                    + " (bench/compare.sh does), or set -Dlstm4j.bench.models");
        }
        return d;
    }

    public LstmModel model() {
        LstmModel m = ModelLoader.load(dir().resolve("model.safetensors"), ModelLoader.Options.DEFAULT);
        if (!m.lstm().config().equals(config)) {
            throw new IllegalStateException(dir() + ": file holds " + m.lstm().config() + ", expected " + config);
        }
        return m;
    }

    public Tensor read(String npy) {
        return Npy.read(dir().resolve(npy));
    }

    /** The input: (B, T, I) for a forward pass; for streaming, the recorded steps (1, 16, I). */
    public float[] input() {
        return read("input.npy").toFloatArray();
    }
}
