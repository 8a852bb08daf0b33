package dev.lstm4j;

import dev.lstm4j.internal.Names;
import dev.lstm4j.nn.Activation;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A whole model in one line: {@code [embedding] > lstm > readout > head layers}, e.g.
 * {@code emb > lstm > last > fc1 > relu > dropout > fc2}. Names are state-dict prefixes (without the trailing dot:
 * {@code fc1} finds {@code fc1.weight} and {@code fc1.bias}; {@code head.0} a layer of an {@code nn.Sequential});
 * keywords are readouts ({@link Readout}: {@code all}, {@code last}, {@code last-valid}, {@code hn}, {@code mean},
 * {@code max}) and parameter-free layers ({@link Activation}: {@code relu}, {@code gelu}, {@code gelu-tanh},
 * {@code tanh}, {@code sigmoid}, {@code softmax}, {@code logsoftmax}, {@code dropout}; and {@code layernorm} for an
 * {@code nn.LayerNorm} without weights). A norm layer takes its {@code eps} as {@code ln(eps=1e-6)} (default 1e-5).
 * The kind of a named layer (Linear, LayerNorm, BatchNorm1d, Embedding, LSTM) comes from the tensors under its prefix.
 *
 * <p>The LSTM's name {@code lstm} also names an LSTM saved without a prefix ({@code weight_ih_l0}, …) when the file has
 * no {@code lstm.} tensors. A spec with nothing after the LSTM may leave out the readout ({@code lstm} is
 * {@code lstm > all}); any longer spec must say it. Immutable and thread-safe.
 *
 * <pre>{@code
 * ModelSpec a = ModelSpec.parse("emb > lstm > last > fc1 > relu > dropout > fc2");
 * ModelSpec b = ModelSpec.builder().embedding("emb").lstm("lstm").readout(Readout.LAST)
 *         .layer("fc1").activation(Activation.RELU).activation(Activation.DROPOUT).layer("fc2").build();
 * // a.equals(b); a.toString() is the canonical line
 * }</pre>
 */
public final class ModelSpec {
    /** The safetensors {@code __metadata__} key under which {@code lstm4j convert} stores the spec. */
    public static final String METADATA_KEY = "lstm4j.model";

    /**
     * A state-dict prefix as PyTorch allows it (module names may hold any character but '.', which joins them, so a file
     * may hold control characters in them; messages escape them): anything without '>' (the separator), '(' (the eps
     * suffix), a space or a tab (in a typed spec, a typo).
     */
    private static final Pattern NAME = Pattern.compile("(?s)[^>( \t]+(\\(eps=[0-9.eE+\\-]+\\))?");

    private final String embedding;
    private final String lstm;
    private final Readout readout;
    private final List<String> head;

    private ModelSpec(String embedding, String lstm, Readout readout, List<String> head) {
        this.embedding = embedding;
        this.lstm = lstm;
        this.readout = readout;
        this.head = List.copyOf(head);
        if (embedding != null) {
            check(embedding, "the embedding");
        }
        require(lstm != null, "a model spec needs an LSTM: e.g. 'lstm > last > fc'");
        check(lstm, "the LSTM");
        for (String h : head) {
            check(h, "a head layer");
            require(Readout.ofKeyword(h) == null, "'" + h + "' is a readout, and the spec has one already ('" + readout.keyword()
                    + "'); a model has one readout, right after the LSTM");
        }
        require(!isKeyword(lstm), "'" + lstm + "' is a keyword, not the LSTM's name; the spec starts [embedding >] LSTM > readout,"
                + " e.g. 'lstm > last > fc'");
        require(embedding == null || !isKeyword(embedding), "'" + embedding + "' is a keyword, not the embedding's name");
    }

    private static void check(String token, String what) {
        require(token != null && NAME.matcher(token).matches(), "model spec: " + what + " '" + token
                + "' is not a name (a state-dict prefix such as fc1 or head.0) nor a keyword");
    }

    /** Names in a spec may come from a file (a stored spec, a key prefix): the message is escaped before it is thrown. */
    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new ModelException(Names.safe(message, 4000));
        }
    }

    /** Whether a token is a readout or layer keyword rather than a state-dict name. */
    public static boolean isKeyword(String token) {
        return Readout.ofKeyword(token) != null || Activation.ofKeyword(token) != null || baseName(token).toLowerCase(Locale.ROOT).equals("layernorm");
    }

    /** {@code ln} for {@code ln(eps=1e-6)}. */
    public static String baseName(String token) {
        int p = token.indexOf('(');
        return p < 0 ? token : token.substring(0, p);
    }

    /** The eps written as {@code name(eps=X)}, or {@code fallback}. */
    public static double eps(String token, double fallback) {
        int p = token.indexOf("(eps=");
        if (p < 0) {
            return fallback;
        }
        String v = token.substring(p + 5, token.length() - 1);
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new ModelException(Names.safe("model spec: '" + token + "': eps must be a number, got '" + v + "'", 4000));
        }
    }

    /**
     * Parses a spec line: tokens separated by {@code >}.
     *
     * @throws ModelException naming what is wrong, e.g. two readouts or none where one is needed
     */
    public static ModelSpec parse(String text) {
        require(text != null && !text.isBlank(), "model spec is empty; write e.g. 'lstm > last > fc'");
        String[] parts = text.split(">", -1);
        List<String> t = new ArrayList<>();
        for (String p : parts) {
            String s = p.trim();
            require(!s.isEmpty(), "model spec '" + text + "': an empty step between two '>'");
            t.add(s);
        }
        int r = -1;
        for (int k = 0; k < t.size(); k++) {
            if (Readout.ofKeyword(t.get(k)) != null) {
                if (r >= 0) {
                    throw new ModelException(Names.safe("model spec '" + text + "': two readouts ('" + t.get(r) + "' and '" + t.get(k)
                            + "'); a model has one, right after the LSTM", 4000));
                }
                r = k;
            }
        }
        if (r < 0) {
            require(t.size() == 1, "model spec '" + text + "': no readout; right after the LSTM say what the head takes: all (every"
                    + " step), last, last-valid, hn, mean or max, e.g. 'lstm > last > fc' or 'emb > lstm > mean > fc'");
            return new ModelSpec(null, t.get(0), Readout.ALL, List.of());
        }
        require(r == 1 || r == 2, "model spec '" + text + "': the readout '" + t.get(r) + "' must follow the LSTM, which may follow"
                + " an embedding: [embedding >] lstm > " + t.get(r) + " > head layers");
        Readout readout = Readout.ofKeyword(t.get(r));
        List<String> head = new ArrayList<>();
        for (String h : t.subList(r + 1, t.size())) {
            Activation a = Activation.ofKeyword(h);
            head.add(a != null ? a.keyword() : h);
        }
        return new ModelSpec(r == 2 ? t.get(0) : null, t.get(r - 1), readout, head);
    }

    /** A builder that says the same as a spec line. */
    public static Builder builder() {
        return new Builder();
    }

    /** The embedding's prefix name, or null. */
    public String embedding() {
        return embedding;
    }

    /** The LSTM's prefix name ({@code lstm} also for an LSTM saved without a prefix). */
    public String lstm() {
        return lstm;
    }

    public Readout readout() {
        return readout;
    }

    /** The head's tokens in order: names and keywords. */
    public List<String> head() {
        return head;
    }

    /** The same spec with another readout. */
    public ModelSpec withReadout(Readout r) {
        return new ModelSpec(embedding, lstm, Objects.requireNonNull(r), head);
    }

    /** The canonical line, e.g. {@code emb > lstm > last > fc1 > relu > fc2}; {@link #parse} reads it back equal. */
    @Override
    public String toString() {
        List<String> t = new ArrayList<>();
        if (embedding != null) {
            t.add(embedding);
        }
        t.add(lstm);
        t.add(readout.keyword());
        t.addAll(head);
        return String.join(" > ", t);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelSpec s && toString().equals(s.toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    /** Builds a {@link ModelSpec}; not thread-safe (the spec it builds is). */
    public static final class Builder {
        private String embedding;
        private String lstm;
        private Readout readout = Readout.ALL;
        private final List<String> head = new ArrayList<>();

        private Builder() {
        }

        /** An {@code nn.Embedding} before the LSTM, by prefix name. */
        public Builder embedding(String name) {
            this.embedding = name;
            return this;
        }

        /** The LSTM's prefix name. */
        public Builder lstm(String name) {
            this.lstm = name;
            return this;
        }

        /** What the head takes from the LSTM (default {@link Readout#ALL}). */
        public Builder readout(Readout r) {
            this.readout = Objects.requireNonNull(r, "readout");
            return this;
        }

        /** A head layer with parameters (Linear, LayerNorm, BatchNorm1d) by prefix name, or a keyword. */
        public Builder layer(String nameOrKeyword) {
            Activation a = Activation.ofKeyword(nameOrKeyword);
            head.add(a != null ? a.keyword() : nameOrKeyword);
            return this;
        }

        /** A parameter-free layer. */
        public Builder activation(Activation a) {
            head.add(a.keyword());
            return this;
        }

        /** @throws ModelException when a name is malformed or a keyword stands where a name must */
        public ModelSpec build() {
            return new ModelSpec(embedding, lstm, readout, head);
        }
    }
}
