package dev.lstm4j;

/**
 * How {@link Lstm4j#load(java.nio.file.Path, LoadOptions)} finds the model in a weights file. Immutable and
 * thread-safe; every {@code with…} returns a new value.
 *
 * <pre>{@code
 * LstmModel m = Lstm4j.load(path, LoadOptions.defaults().withPrefix("encoder.lstm.").withHead("fc."));
 * }</pre>
 */
public final class LoadOptions {
    private static final LoadOptions DEFAULTS = new LoadOptions(null, null, false, null, EngineChoice.FAST, null, false, 0);

    private final String prefix;
    private final String head;
    private final boolean noHead;
    private final String checkpointKey;
    private final EngineChoice engine;
    private final ModelSpec spec;
    private final boolean allowUnused;
    private final long maxBytes;

    private LoadOptions(String prefix, String head, boolean noHead, String checkpointKey, EngineChoice engine, ModelSpec spec,
                        boolean allowUnused, long maxBytes) {
        this.prefix = prefix;
        this.head = head;
        this.noHead = noHead;
        this.checkpointKey = checkpointKey;
        this.engine = engine;
        this.spec = spec;
        this.allowUnused = allowUnused;
        this.maxBytes = maxBytes;
    }

    /** Find the LSTM, its head and (in a checkpoint) the state dict by themselves; run on the fast path. */
    public static LoadOptions defaults() {
        return DEFAULTS;
    }

    /** The LSTM's key prefix, e.g. {@code "lstm."} ({@code "lstm"} means the same; {@code ""} for none); null to find it. */
    public LoadOptions withPrefix(String prefix) {
        return new LoadOptions(prefix, head, noHead, checkpointKey, engine, spec, allowUnused, maxBytes);
    }

    /** The {@code nn.Linear} head's key prefix, e.g. {@code "fc."}; null to find it. */
    public LoadOptions withHead(String head) {
        return new LoadOptions(prefix, head, false, checkpointKey, engine, spec, allowUnused, maxBytes);
    }

    /** Use no head, even when the file has one next to the LSTM. */
    public LoadOptions withoutHead() {
        return new LoadOptions(prefix, null, true, checkpointKey, engine, spec, allowUnused, maxBytes);
    }

    /**
     * In a {@code torch.save} checkpoint dict, the entry that holds the state dict, e.g. {@code "model"} or a path
     * such as {@code "state/model"}; null to find it (when only one entry could be it).
     */
    public LoadOptions withCheckpointKey(String key) {
        return new LoadOptions(prefix, head, noHead, key, engine, spec, allowUnused, maxBytes);
    }

    /** The path the model computes on (default {@link EngineChoice#FAST}). */
    public LoadOptions withEngine(EngineChoice engine) {
        if (engine == null) {
            throw new IllegalArgumentException("engine is null; use EngineChoice.FAST or EngineChoice.REFERENCE");
        }
        return new LoadOptions(prefix, head, noHead, checkpointKey, engine, spec, allowUnused, maxBytes);
    }

    /**
     * The whole model, declared once: {@code [embedding] > lstm > readout > head layers} (see {@link ModelSpec}). It
     * takes the place of {@link #withPrefix}/{@link #withHead}, and of a spec stored in the file's metadata (key
     * {@value ModelSpec#METADATA_KEY}). Null: the file's spec, or else the LSTM with the Linear head found beside it
     * on every step ({@code lstm > all > fc}).
     */
    public LoadOptions withSpec(ModelSpec spec) {
        return new LoadOptions(prefix, head, noHead, checkpointKey, engine, spec, allowUnused, maxBytes);
    }

    /** As {@link #withSpec(ModelSpec)}, from a spec line such as {@code "emb > lstm > last > fc1 > relu > fc2"}. */
    public LoadOptions withSpec(String spec) {
        return withSpec(spec == null ? null : ModelSpec.parse(spec));
    }

    /**
     * Load even when the file holds tensors the model does not use (by default that is a {@link ModelException}
     * naming them, since a skipped layer gives a wrong answer). They are listed in {@link LstmModel#ignoredKeys()};
     * for checkpoints that carry unrelated tensors (e.g. a second network).
     */
    public LoadOptions allowingUnused() {
        return new LoadOptions(prefix, head, noHead, checkpointKey, engine, spec, true, maxBytes);
    }

    /**
     * The most bytes reading the file may expand to on the heap (decompressed entries, repeated views, decoded
     * tensors), checked from declared sizes before anything is allocated; a file that would need more is refused.
     * 0 (the default) means the default budget described in {@code docs/formats.md}.
     */
    public LoadOptions withMaxBytes(long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must be 0 (the default) or positive, got " + maxBytes);
        }
        return new LoadOptions(prefix, head, noHead, checkpointKey, engine, spec, allowUnused, maxBytes);
    }

    /** The byte budget for reading, or 0 for the default. */
    public long maxBytes() {
        return maxBytes;
    }

    /** The spec given with {@link #withSpec}, or null. */
    public ModelSpec spec() {
        return spec;
    }

    /** Whether tensors the model does not use are allowed (listed, not refused). */
    public boolean allowUnused() {
        return allowUnused;
    }

    /** The LSTM's key prefix, or null to find it. */
    public String prefix() {
        return prefix;
    }

    /** The head's key prefix, or null to find it (or when {@link #noHead()}). */
    public String head() {
        return head;
    }

    public boolean noHead() {
        return noHead;
    }

    /** The checkpoint entry holding the state dict, or null to find it. */
    public String checkpointKey() {
        return checkpointKey;
    }

    public EngineChoice engine() {
        return engine;
    }

    @Override
    public String toString() {
        return "LoadOptions[prefix=" + prefix + ", head=" + (noHead ? "none" : head) + ", checkpointKey=" + checkpointKey
                + ", engine=" + engine + ", spec=" + spec + ", allowUnused=" + allowUnused + ", maxBytes=" + maxBytes + "]";
    }
}
