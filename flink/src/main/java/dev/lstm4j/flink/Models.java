package dev.lstm4j.flink;

import dev.lstm4j.Lstm4j;
import dev.lstm4j.LstmModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Models loaded once per JVM and shared by every task and slot in it, keyed by the SHA-256 of the weights file's bytes: two
 * processors given the same file (by path or by bytes) share one {@link LstmModel}, which is immutable and thread-safe.
 */
final class Models {
    private Models() {
    }

    /** The model in this weights file (safetensors, .pt, .npz), loaded once per JVM ({@link Lstm4j#loadShared}). */
    static LstmModel of(byte[] weights, String fileName) {
        return Lstm4j.loadShared(weights, fileName);
    }

    static byte[] read(Path path) {
        try {
            return Files.readAllBytes(path);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the model " + path + "; check the path on every instance", e);
        }
    }
}
