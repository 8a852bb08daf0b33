package dev.lstm4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Weights held once: an H=4096, I=16 float32 safetensors model (270 MB of weights) loads and runs a forward pass in
 * a JVM whose heap is 1.5× its weight bytes. The file is memory-mapped and the fast path packs straight from the
 * mapping, so the packed weights are the only copy on the heap. Also shows the bound can fail: at 0.9× it must
 * run out of memory.
 */
class PeakHeapIT {
    @TempDir
    Path tmp;

    @Test
    void loadAndForwardFitInOneAndAHalfTimesTheWeights() throws Exception {
        int input = 16, hidden = 4096;
        long seed = 4096;
        System.out.println("PeakHeapIT seed " + seed);
        Path file = tmp.resolve("h4096.safetensors");
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("lstm.weight_ih_l0", random(rnd, 4 * hidden, input));
        sd.put("lstm.weight_hh_l0", random(rnd, 4 * hidden, hidden));
        sd.put("lstm.bias_ih_l0", random(rnd, 4 * hidden));
        sd.put("lstm.bias_hh_l0", random(rnd, 4 * hidden));
        Lstm4j.writeSafetensors(file, sd, Map.of());
        sd.clear();
        long weightBytes = 4L * (4L * hidden * (input + hidden) + 8L * hidden);

        String ok = run(file, weightBytes * 3 / 2);
        assertTrue(ok.contains("ok fast=true"), ok);
        assertTrue(ok.contains("weightBytes=" + weightBytes), ok);

        String tooSmall = run(file, weightBytes * 9 / 10);
        assertTrue(tooSmall.contains("OutOfMemoryError"), "a heap of 0.9x the weights should not be enough:\n" + tooSmall);
    }

    private String run(Path file, long heapBytes) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx" + (heapBytes >> 20) + "m", "--add-modules", "jdk.incubator.vector",
                "-Dlstm4j.threads=1", "-cp", System.getProperty("java.class.path"), PeakHeapMain.class.getName(), file.toString(), "10")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "timed out");
        System.out.println("PeakHeapIT -Xmx" + (heapBytes >> 20) + "m: exit " + p.exitValue() + "\n" + out);
        if (out.contains("ok fast=")) {
            assertEquals(0, p.exitValue(), out);
        }
        return out;
    }

    private static Tensor random(SplittableRandom rnd, int... shape) {
        float[] v = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextDouble() - 0.5) * 0.1f;
        }
        return Tensor.wrap(DType.F32, shape, v);
    }
}
