package dev.lstm4j.internal.io;

import dev.lstm4j.internal.Names;
import dev.lstm4j.Linear;
import dev.lstm4j.LoadOptions;
import dev.lstm4j.LstmModel;
import dev.lstm4j.ModelException;
import dev.lstm4j.ModelSpec;
import dev.lstm4j.Readout;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.nn.Activation;
import dev.lstm4j.nn.BatchNorm1d;
import dev.lstm4j.nn.Embedding;
import dev.lstm4j.nn.Layer;
import dev.lstm4j.nn.LayerNorm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Builds a whole {@link LstmModel} from a state dict and a {@link ModelSpec}: the spec given, else the one stored in the
 * file's metadata ({@value ModelSpec#METADATA_KEY}), else the LSTM with the Linear head found beside it
 * ({@code lstm > all > fc}, as {@link ModelLoader} finds them). The LSTM itself is built by {@link ModelLoader}.
 * Every tensor of the file must be used by the model; the ones left over are a {@link ModelException} that names them
 * and shows a spec that would use them, unless the options allow unused tensors.
 */
public final class PipelineLoader {
    private static final double DEFAULT_EPS = 1e-5;

    private PipelineLoader() {
    }

    /** Where a model's spec came from, for {@code inspect}. */
    public enum SpecSource { GIVEN, FILE_METADATA, INFERRED }

    /** The model and where its spec came from. */
    public record Loaded(LstmModel model, SpecSource source) {
    }

    /** The model the options and the file describe (on the fast path; the caller applies the engine choice). */
    public static LstmModel load(StateDict sd, LoadOptions options) {
        return resolve(sd, options).model();
    }

    /** As {@link #load}, saying where the spec came from. */
    public static Loaded resolve(StateDict sd, LoadOptions options) {
        try {
            return resolveUnchecked(sd, options);
        } catch (ModelException e) {
            // names in these messages come from the file (keys, prefixes, a stored spec): never print them raw
            if (Names.isPrintable(e.getMessage())) {
                throw e;
            }
            throw new ModelException(Names.safe(e.getMessage(), 4000), e);
        }
    }

    private static Loaded resolveUnchecked(StateDict sd, LoadOptions options) {
        String where = sd.sourceName() + ": ";
        boolean legacy = options.prefix() != null || options.head() != null || options.noHead();
        if (options.spec() != null) {
            if (legacy) {
                throw new ModelException("give the model either as a spec (--model, LoadOptions.withSpec) or with --prefix/--head/--no-head,"
                        + " not both; the spec names the LSTM and its head itself");
            }
            return new Loaded(build(sd, options.spec(), options.allowUnused()), SpecSource.GIVEN);
        }
        String stored = sd.metadata().get(ModelSpec.METADATA_KEY);
        if (stored != null && !legacy) {
            ModelSpec spec;
            try {
                spec = ModelSpec.parse(stored);
            } catch (ModelException e) {
                throw new ModelException(where + "the spec in the file's metadata (" + ModelSpec.METADATA_KEY + " = '" + stored
                        + "') is not valid: " + e.getMessage() + "; give one with --model");
            }
            return new Loaded(build(sd, spec, options.allowUnused()), SpecSource.FILE_METADATA);
        }
        LstmModel found;
        try {
            found = ModelLoader.fromStateDict(sd, new ModelLoader.Options(options.prefix(), options.head(), options.noHead()));
        } catch (ModelException e) {
            String s = suggestion(sd, null, null);
            throw new ModelException(e.getMessage() + (s == null ? "" : "; or declare the whole model, e.g. --model \"" + s
                    + "\" (LoadOptions.withSpec), see docs/models.md"));
        }
        if (!found.ignoredKeys().isEmpty() && !options.allowUnused()) {
            throw unused(sd, found.ignoredKeys(), found.spec(), null);
        }
        return new Loaded(found, SpecSource.INFERRED);
    }

    /** The model a spec describes, checked to use every tensor of the file unless {@code allowUnused}. */
    public static LstmModel build(StateDict sd, ModelSpec spec, boolean allowUnused) {
        String where = sd.sourceName() + ": ";
        Map<String, Tensor> all = sd.tensors();
        Set<String> used = new LinkedHashSet<>();
        // the LSTM, by ModelLoader, at the spec's prefix
        String lstmPrefix = lstmPrefix(sd, spec.lstm());
        LstmModel base;
        try {
            base = ModelLoader.fromStateDict(sd, new ModelLoader.Options(lstmPrefix, null, true));
        } catch (ModelException e) {
            throw new ModelException(e.getMessage() + " (model spec: " + spec + ")");
        }
        for (String k : all.keySet()) {
            if (!base.ignoredKeys().contains(k)) {
                used.add(k);
            }
        }
        try {
            Embedding embedding = null;
            if (spec.embedding() != null) {
                String p = spec.embedding() + ".";
                Map<String, Tensor> own = own(sd, spec.embedding(), "the embedding");
                if (!own.keySet().equals(Set.of("weight"))) {
                    throw new ModelException("'" + spec.embedding() + "' (before the LSTM) should be an nn.Embedding, with only "
                            + p + "weight; the file has " + keys(p, own));
                }
                embedding = new Embedding(own.get("weight"));
                used.add(p + "weight");
            }
            int features = base.lstm().config().outputSize();
            List<Layer> layers = new ArrayList<>();
            for (String token : spec.head()) {
                Layer l = layer(sd, token, features, used);
                try {
                    features = l.outFeatures(features);
                } catch (ModelException e) {
                    throw new ModelException("head layer '" + token + "' (" + l.describe() + "): " + e.getMessage());
                }
                layers.add(l);
            }
            List<String> unused = new ArrayList<>();
            for (String k : all.keySet()) {
                if (!used.contains(k)) {
                    unused.add(k);
                }
            }
            ModelSpec.Builder b = ModelSpec.builder().embedding(spec.embedding()).lstm(spec.lstm()).readout(spec.readout());
            for (String h : spec.head()) {
                b.layer(h);
            }
            ModelSpec canonical = b.build();
            if (!unused.isEmpty() && !allowUnused) {
                throw unused(sd, unused, canonical, spec.readout());
            }
            return new LstmModel(canonical, embedding, base.lstm(), layers, base.prefix(), base.cell(), unused);
        } catch (ModelException e) {
            throw new ModelException(e.getMessage().startsWith(where) ? e.getMessage() : where + e.getMessage());
        }
    }

    /** {@code lstm} also names an LSTM saved without a prefix, when the file has no {@code lstm.} tensors. */
    private static String lstmPrefix(StateDict sd, String name) {
        String p = name + ".";
        for (String k : sd.tensors().keySet()) {
            if (k.startsWith(p)) {
                return p;
            }
        }
        if (name.equals("lstm") && (sd.tensors().containsKey("weight_ih_l0") || sd.tensors().containsKey("weight_ih"))) {
            return "";
        }
        throw new ModelException(sd.sourceName() + ": no tensors under '" + p + "' for the LSTM '" + name + "'; LSTMs in the file: "
                + lstmNames(sd));
    }

    private static String lstmNames(StateDict sd) {
        Set<String> names = new LinkedHashSet<>();
        for (String k : sd.tensors().keySet()) {
            if (k.endsWith("weight_ih_l0") || k.endsWith("weight_ih")) {
                String p = k.substring(0, k.lastIndexOf("weight_ih"));
                names.add(p.isEmpty() ? "lstm (no prefix)" : p.substring(0, p.length() - 1));
            }
        }
        return names.isEmpty() ? "none" : String.join(", ", names);
    }

    /** The tensors directly under {@code name.}, by their last name part. */
    private static Map<String, Tensor> own(StateDict sd, String name, String what) {
        String p = name + ".";
        Map<String, Tensor> own = new LinkedHashMap<>();
        Set<String> deeper = new LinkedHashSet<>();
        for (Map.Entry<String, Tensor> e : sd.tensors().entrySet()) {
            String k = e.getKey();
            if (k.startsWith(p)) {
                String rest = k.substring(p.length());
                int dot = rest.indexOf('.');
                if (dot < 0) {
                    own.put(rest, e.getValue());
                } else {
                    deeper.add(p + rest.substring(0, dot));
                }
            }
        }
        if (own.isEmpty()) {
            if (!deeper.isEmpty()) {
                throw new ModelException("'" + name + "' holds no tensors of its own but the layers " + String.join(", ", deeper)
                        + "; name each of them in the spec, e.g. '" + String.join(" > ", deeper) + "' with the activations between");
            }
            throw new ModelException("no tensors under '" + p + "' for " + what + " '" + name + "'; a layer without parameters is"
                    + " written as a keyword (relu, gelu, gelu-tanh, tanh, sigmoid, softmax, logsoftmax, dropout, layernorm)");
        }
        return own;
    }

    private static String keys(String p, Map<String, Tensor> own) {
        List<String> l = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : own.entrySet()) {
            l.add(p + e.getKey() + " " + Tensor.shapeString(e.getValue().shape()));
        }
        return String.join(", ", l);
    }

    /** One head layer: a keyword, or the tensors under a name (Linear, LayerNorm or BatchNorm1d, by which tensors are there). */
    private static Layer layer(StateDict sd, String token, int features, Set<String> used) {
        Activation a = Activation.ofKeyword(token);
        if (a != null) {
            return a;
        }
        String base = ModelSpec.baseName(token);
        if (base.toLowerCase(Locale.ROOT).equals("layernorm")) {
            return new LayerNorm(features, null, null, ModelSpec.eps(token, DEFAULT_EPS));
        }
        String p = base + ".";
        Map<String, Tensor> own = own(sd, base, "the head layer");
        Tensor w = own.get("weight");
        Tensor b = own.get("bias");
        Layer l;
        Set<String> allowed;
        if (own.containsKey("running_mean")) {
            allowed = Set.of("weight", "bias", "running_mean", "running_var", "num_batches_tracked");
            check(p, own, allowed, "nn.BatchNorm1d");
            l = new BatchNorm1d(own.get("running_mean"), own.get("running_var"), w, b, ModelSpec.eps(token, DEFAULT_EPS));
        } else if (w != null && w.rank() == 2) {
            check(p, own, Set.of("weight", "bias"), "nn.Linear");
            noEps(token, "nn.Linear");
            l = new Linear(w, b);
        } else if (w != null && w.rank() == 1) {
            check(p, own, Set.of("weight", "bias"), "nn.LayerNorm");
            l = new LayerNorm(w.size(0), w, b, ModelSpec.eps(token, DEFAULT_EPS));
        } else {
            throw new ModelException("'" + base + "' is not a layer lstm4j knows: " + keys(p, own) + "; head layers are nn.Linear"
                    + " (2-D weight), nn.LayerNorm (1-D weight, bias), nn.BatchNorm1d (running_mean, running_var, ...)");
        }
        for (String k : own.keySet()) {
            used.add(p + k);
        }
        return l;
    }

    private static void noEps(String token, String kind) {
        if (token.contains("(")) {
            throw new ModelException("'" + token + "': " + kind + " takes no eps");
        }
    }

    private static void check(String p, Map<String, Tensor> own, Set<String> allowed, String kind) {
        for (String k : own.keySet()) {
            if (!allowed.contains(k)) {
                throw new ModelException(p + k + ": unexpected tensor for an " + kind + " (" + keys(p, own) + ")");
            }
        }
    }

    /** @param readout the readout the user chose, or null when the spec was inferred */
    private static ModelException unused(StateDict sd, List<String> unused, ModelSpec spec, Readout readout) {
        StringBuilder m = new StringBuilder(sd.sourceName()).append(": the model '").append(spec).append("' leaves ")
                .append(unused.size()).append(unused.size() == 1 ? " tensor" : " tensors").append(" of the file unused: ")
                .append(abbreviate(unused)).append(". Running without them would give a wrong answer.");
        String s = suggestion(sd, spec, readout);
        if (s != null) {
            m.append(" A spec that uses them: --model \"").append(s).append("\" (LoadOptions.withSpec); put in the readout")
                    .append(" (all, last, last-valid, hn, mean, max) and the activations (relu, gelu, tanh, dropout, ...) your")
                    .append(" forward() applies: they have no weights, so the file cannot show them (docs/models.md).");
        } else {
            m.append(" Declare the model with --model (LoadOptions.withSpec), see docs/models.md.");
        }
        m.append(" To run anyway, leaving them out, pass --allow-unused (LoadOptions.allowingUnused()).");
        return new ModelException(m.toString());
    }

    /**
     * A spec that would use every tensor of the file: the LSTM, an embedding before it when a module listed before it
     * fits its input, and every other module in file order as a head layer; null when none builds. The readout is the
     * one given, else {@code all} for a single Linear (today's reading) and {@code last} for a longer head.
     */
    static String suggestion(StateDict sd, ModelSpec current, Readout readout) {
        String lstmName;
        try {
            String prefix = current != null ? lstmPrefix(sd, current.lstm()) : ModelLoader.findPrefix(sd);
            lstmName = prefix.isEmpty() ? "lstm" : prefix.substring(0, prefix.length() - 1);
        } catch (ModelException e) {
            return null;
        }
        String lstmPrefix = lstmName.equals("lstm") && !hasPrefix(sd, "lstm.") ? "" : lstmName + ".";
        // modules in file order, by the part of the key before its last dot
        Map<String, Map<String, Tensor>> modules = new LinkedHashMap<>();
        boolean lstmSeen = false;
        List<String> beforeLstm = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : sd.tensors().entrySet()) {
            String k = e.getKey();
            String rest = k.substring(k.startsWith(lstmPrefix) ? lstmPrefix.length() : 0);
            if (k.startsWith(lstmPrefix) && !rest.contains(".")) {
                lstmSeen = true;
                continue;
            }
            int dot = k.lastIndexOf('.');
            if (dot < 0) {
                return null;
            }
            String module = k.substring(0, dot);
            if (!modules.containsKey(module) && !lstmSeen) {
                beforeLstm.add(module);
            }
            modules.computeIfAbsent(module, x -> new LinkedHashMap<>()).put(k.substring(dot + 1), e.getValue());
        }
        String embedding = null;
        List<String> head = new ArrayList<>();
        boolean batchNorm = false;
        for (Map.Entry<String, Map<String, Tensor>> e : modules.entrySet()) {
            Map<String, Tensor> own = e.getValue();
            Tensor w = own.get("weight");
            if (embedding == null && beforeLstm.contains(e.getKey()) && own.keySet().equals(Set.of("weight")) && w.rank() == 2) {
                embedding = e.getKey();
            } else {
                head.add(e.getKey());
                batchNorm |= own.containsKey("running_mean");
            }
        }
        Readout r = readout != null ? readout : head.size() <= 1 ? Readout.ALL : Readout.LAST;
        if (r == Readout.ALL && batchNorm) {
            r = Readout.LAST;
        }
        ModelSpec.Builder b = ModelSpec.builder().embedding(embedding).lstm(lstmName).readout(r);
        for (String h : head) {
            b.layer(h);
        }
        try {
            ModelSpec s = b.build();
            build(sd, s, false);
            return s.toString();
        } catch (ModelException e) {
            return null;
        }
    }

    private static boolean hasPrefix(StateDict sd, String p) {
        for (String k : sd.tensors().keySet()) {
            if (k.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    private static String abbreviate(List<String> keys) {
        return keys.size() <= 12 ? String.join(", ", keys) : String.join(", ", keys.subList(0, 12)) + ", … (" + (keys.size() - 12) + " more)";
    }
}
