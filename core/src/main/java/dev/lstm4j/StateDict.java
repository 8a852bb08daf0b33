package dev.lstm4j;

import dev.lstm4j.Tensor;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Named tensors in file order, as {@code model.state_dict()} gives them, with the file they came from.
 *
 * @param source   the file read, or null when built in memory
 * @param format   a short format name such as {@code safetensors}
 * @param tensors  name to tensor, in file order; unmodifiable
 * @param metadata free-form string metadata stored with the tensors (safetensors {@code __metadata__})
 */
public record StateDict(Path source, String format, Map<String, Tensor> tensors, Map<String, String> metadata) {
    public StateDict {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** An in-memory state dict. */
    public static StateDict of(Map<String, Tensor> tensors) {
        return new StateDict(null, "memory", tensors, Map.of());
    }

    /** How to name the source in messages. */
    public String sourceName() {
        return source == null ? "(state dict)" : source.toString();
    }
}
