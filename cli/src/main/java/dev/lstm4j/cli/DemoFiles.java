package dev.lstm4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** The article's example (the {@code /demo} resources) copied to a temporary directory, deleted on close. */
final class DemoFiles implements AutoCloseable {
    private static final String[] FILES = {"model.safetensors", "input.npy", "output.npy", "h_n.npy", "c_n.npy", "head.npy", "case.json"};
    private final Path dir;

    DemoFiles() throws IOException {
        dir = Files.createTempDirectory("lstm4j-demo");
        for (String f : FILES) {
            try (InputStream in = DemoFiles.class.getResourceAsStream("/demo/" + f)) {
                if (in == null) {
                    close();
                    throw new IllegalStateException("demo resource /demo/" + f + " missing from the jar; rebuild with mvn package");
                }
                Files.copy(in, dir.resolve(f));
            }
        }
    }

    Path resolve(String name) {
        return dir.resolve(name);
    }

    @Override
    public void close() throws IOException {
        for (String f : FILES) {
            Files.deleteIfExists(dir.resolve(f));
        }
        Files.deleteIfExists(dir);
    }
}
