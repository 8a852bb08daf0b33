package dev.lstm4j.internal;

import dev.lstm4j.LoadOptions;
import dev.lstm4j.LstmModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Models loaded once per JVM, keyed by the SHA-256 of the weights file's bytes, for engines that run many tasks in one
 * JVM (Spark executors, Flink task managers, Kafka Streams threads): every task given the same bytes shares one
 * immutable, thread-safe {@link LstmModel}.
 */
public final class SharedModels {
    private static final ConcurrentHashMap<String, LstmModel> LOADED = new ConcurrentHashMap<>();

    private SharedModels() {
    }

    /**
     * The model in these bytes, loaded on first use by {@code load} from a temporary copy named like {@code fileName}
     * (the readers detect the format by content; the suffix only helps a person reading a message).
     */
    public static LstmModel of(byte[] weights, String fileName, LoadOptions options, Function<Path, LstmModel> load) {
        // options are part of the key: the same bytes loaded with another spec or engine are another model
        return LOADED.computeIfAbsent(sha256(weights) + " " + options, h -> {
            try {
                String suffix = fileName.contains(".") ? fileName.substring(fileName.lastIndexOf('.')) : ".safetensors";
                Path tmp = Files.createTempFile("lstm4j-model-", suffix);
                try {
                    Files.write(tmp, weights);
                    return load.apply(tmp);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("could not stage the model " + fileName + " in a temporary file", e);
            }
        });
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }
}
