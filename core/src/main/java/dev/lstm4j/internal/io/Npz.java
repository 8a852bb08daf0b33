package dev.lstm4j.internal.io;

import dev.lstm4j.StateDict;
import dev.lstm4j.FileFormatException;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Names;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a state dict saved as NumPy {@code .npz}: {@code np.savez(path, **{k: v.numpy() for k, v in
 * sd.items()})} (entries stored) or {@code np.savez_compressed} (entries deflated). Each entry
 * {@code <name>.npy} is one tensor named {@code <name>}, in archive order. Object arrays are refused:
 * they would need a pickle.
 */
public final class Npz {
    private Npz() {
    }

    /**
     * Reads every array of an .npz file as a named tensor.
     *
     * @throws FileFormatException when the archive or one of its arrays is malformed or unsupported
     */
    public static StateDict read(Path file) {
        return read(file, Budget.defaultMaxBytes());
    }

    /** As {@link #read(Path)}, refusing an archive whose entries and arrays expand to more than {@code maxBytes} (see {@link Budget}). */
    public static StateDict read(Path file, long maxBytes) {
        try (FileChannel ch = Bytes.open(file)) {
            Budget budget = new Budget(file, maxBytes);
            return read(Zip.open(ch, file, budget), budget);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    static StateDict read(Zip zip, Budget budget) {
        Path file = zip.file();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Zip.Entry e : zip.entries()) {
            if (!e.name().endsWith(".npy")) {
                throw new FileFormatException(file, "zip entry '" + Names.safe(e.name()) + "' is not a .npy array; an .npz state dict holds only"
                        + " <name>.npy entries (np.savez(path, **{k: v.numpy() for k, v in model.state_dict().items()}))");
            }
            String name = e.name().substring(0, e.name().length() - ".npy".length());
            String where = "entry '" + Names.safe(e.name()) + "': ";
            Tensor t = Npy.parse(zip.read(e), file, where);
            budget.charge((long) t.elementCount() * t.dtype().bytes(), "array " + where.substring(0, where.length() - 2));
            if (tensors.put(name, t) != null) {
                throw new FileFormatException(file, "the .npz holds two arrays named '" + Names.safe(name) + "'; refusing an ambiguous archive");
            }
        }
        if (tensors.isEmpty()) {
            throw new FileFormatException(file, "the .npz archive holds no arrays");
        }
        return new StateDict(file, "npz", tensors, Map.of());
    }

    /** True when every entry of the zip is a .npy array (and there is at least one). */
    static boolean isNpz(Zip zip) {
        if (zip.entries().isEmpty()) {
            return false;
        }
        for (Zip.Entry e : zip.entries()) {
            if (!e.name().endsWith(".npy")) {
                return false;
            }
        }
        return true;
    }
}
