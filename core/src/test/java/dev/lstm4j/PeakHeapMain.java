package dev.lstm4j;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;

/**
 * Loads a safetensors model and runs one forward pass, then prints the heap's peak use after collections (the
 * largest live set the collector saw) and the weight bytes. Run by {@link PeakHeapIT} in a JVM whose -Xmx is the
 * bound being proven: finishing at all shows the peak live heap stayed below it.
 */
final class PeakHeapMain {
    public static void main(String[] args) {
        Path file = Path.of(args[0]);
        int steps = Integer.parseInt(args[1]);
        LstmModel model = Lstm4j.load(file);
        long weightBytes = 0;
        for (CellWeights w : model.lstm().cells()) {
            for (Tensor t : new Tensor[] {w.weightIh(), w.weightHh(), w.biasIh(), w.biasHh(), w.weightHr()}) {
                weightBytes += t == null ? 0 : 4L * t.elementCount();
            }
        }
        Tensor x = Tensor.of(new int[] {1, steps, model.lstm().config().inputSize()}, new float[steps * model.lstm().config().inputSize()]);
        LstmModel.Result r = model.forward(x);
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getCollectionUsage() != null) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        System.out.println("ok fast=" + model.lstm().usesFastPath() + " output=" + Tensor.shapeString(r.lstm().output().shape())
                + " weightBytes=" + weightBytes + " peakHeapUsed=" + peak + " maxHeap=" + Runtime.getRuntime().maxMemory());
    }
}
