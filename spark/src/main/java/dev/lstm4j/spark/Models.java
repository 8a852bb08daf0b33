package dev.lstm4j.spark;

import dev.lstm4j.Lstm4j;
import dev.lstm4j.LstmModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Models loaded once per JVM and shared by every task of every job in this executor, keyed by the SHA-256 of the weights file's bytes: two
 * processors given the same file (by path or by bytes) share one {@link LstmModel}, which is immutable and thread-safe.
 */
final class Models {
    private static final ConcurrentHashMap<String, LstmModel> LOADED = new ConcurrentHashMap<>();

    private Models() {
    }

    /** The model in this weights file (safetensors, .pt, .npz), loaded on first use. */
    static LstmModel of(byte[] weights, String fileName) {
        return LOADED.computeIfAbsent(sha256(weights), h -> {
            try {
                String suffix = fileName.contains(".") ? fileName.substring(fileName.lastIndexOf('.')) : ".safetensors";
                Path tmp = Files.createTempFile("lstm4j-model-", suffix);
                try {
                    Files.write(tmp, weights);
                    return Lstm4j.load(tmp);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("could not stage the model " + fileName + " in a temporary file", e);
            }
        });
    }

    static byte[] read(Path path) {
        try {
            return Files.readAllBytes(path);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the model " + path + "; check the path on every instance", e);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }
}
