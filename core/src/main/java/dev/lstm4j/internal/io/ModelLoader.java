package dev.lstm4j.internal.io;

import dev.lstm4j.StateDict;
import dev.lstm4j.CellWeights;
import dev.lstm4j.Linear;
import dev.lstm4j.Lstm;
import dev.lstm4j.internal.LstmChecks;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmModel;
import dev.lstm4j.ModelException;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Names;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds an {@link LstmModel} from a state dict: finds the LSTM's key prefix, infers its architecture from
 * key names and shapes, checks every tensor, and finds a Linear head next to it.
 */
public final class ModelLoader {
    private static final Pattern LSTM_KEY = Pattern.compile("(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\\d+)(_reverse)?");
    /** Layer indices above this are refused before anything is sized from them (PyTorch's own models have a few layers). */
    static final int MAX_LAYER_INDEX = 1 << 16;
    private static final Pattern CELL_KEY = Pattern.compile("(weight_ih|weight_hh|bias_ih|bias_hh)");

    private ModelLoader() {
    }

    /**
     * How to find the model in a file. Immutable.
     *
     * @param prefix     the LSTM's key prefix ("lstm." or "lstm"), or null to find it
     * @param headPrefix the head's key prefix ("fc."), or null to find it
     * @param noHead     true to use no head even if one is found
     * @param maxBytes   the most the file may expand to when read (tensors at elements × dtype size, zip
     *                   entries inflated), checked from declared sizes before allocating; the 3-argument
     *                   constructor uses {@link WeightsFiles#defaultMaxBytes()} (half the max heap, at most 4 GiB)
     */
    public record Options(String prefix, String headPrefix, boolean noHead, long maxBytes) {
        public static final Options DEFAULT = new Options(null, null, false);

        public Options {
            if (maxBytes <= 0) {
                throw new IllegalArgumentException("maxBytes must be positive, found " + maxBytes);
            }
        }

        public Options(String prefix, String headPrefix, boolean noHead) {
            this(prefix, headPrefix, noHead, WeightsFiles.defaultMaxBytes());
        }

        /** These options with another byte limit. */
        public Options withMaxBytes(long maxBytes) {
            return new Options(prefix, headPrefix, noHead, maxBytes);
        }
    }

    /** Reads a weights file and builds the model. */
    public static LstmModel load(Path file, Options options) {
        return fromStateDict(WeightsFiles.read(file, null, options.maxBytes()), options);
    }

    /** What a state dict holds, for {@code inspect}: the LSTM found, or why none could be built. */
    public static LstmModel fromStateDict(StateDict sd, Options options) {
        try {
            return fromStateDictUnchecked(sd, options);
        } catch (ModelException e) {
            // names in these messages come from the file: never print them raw
            if (Names.isPrintable(e.getMessage())) {
                throw e;
            }
            throw new ModelException(Names.safe(e.getMessage(), 4000), e);
        }
    }

    private static LstmModel fromStateDictUnchecked(StateDict sd, Options options) {
        String where = sd.sourceName() + ": ";
        Map<String, Tensor> all = sd.tensors();
        String prefix = options.prefix() == null ? findPrefix(sd) : normalise(options.prefix());
        boolean cell = !all.containsKey(prefix + "weight_ih_l0") && all.containsKey(prefix + "weight_ih");
        Set<String> used = new LinkedHashSet<>();
        Lstm lstm;
        try {
            lstm = cell ? cellLstm(sd, prefix, used) : stackedLstm(sd, prefix, used);
        } catch (ModelException e) {
            throw new ModelException(e.getMessage().startsWith(where) ? e.getMessage() : where + e.getMessage(), e);
        }
        Linear head = null;
        String headPrefix = null;
        if (!options.noHead()) {
            headPrefix = options.headPrefix() == null ? findHead(sd, prefix, lstm.config().outputSize())
                    : normalise(options.headPrefix());
            if (headPrefix != null) {
                Tensor w = all.get(headPrefix + "weight");
                if (w == null) {
                    throw new ModelException(where + "no head tensor " + Names.safe(headPrefix + "weight") + "; heads in the file: "
                            + describeCandidates(headCandidates(sd, prefix, -1)));
                }
                Tensor b = all.get(headPrefix + "bias");
                for (Tensor t : new Tensor[] {w, b}) {
                    if (t != null && !t.dtype().isFloat()) {
                        throw new ModelException(where + Names.safe(headPrefix + (t == w ? "weight" : "bias")) + ": a Linear head's tensors"
                                + " must be float16, bfloat16, float32 or float64, the file has " + t.dtype().torchName()
                                + "; save the model's floats (model.float().state_dict()), or use LoadOptions.withoutHead()");
                    }
                }
                head = new Linear(w, b);
                used.add(headPrefix + "weight");
                if (all.containsKey(headPrefix + "bias")) {
                    used.add(headPrefix + "bias");
                }
            }
        }
        List<String> ignored = new ArrayList<>();
        for (String k : all.keySet()) {
            if (!used.contains(k)) {
                ignored.add(k);
            }
        }
        try {
            return new LstmModel(lstm, head, prefix, headPrefix, cell, ignored);
        } catch (ModelException e) {
            throw new ModelException(where + e.getMessage(), e);
        }
    }

    /** LSTM weights are floats: an integer tensor (a quantised or corrupt file) is refused by name, never converted. */
    private static void requireFloat(String key, Tensor t) {
        if (!t.dtype().isFloat()) {
            throw new ModelException(Names.safe(key) + ": LSTM weights must be float16, bfloat16, float32 or float64, the file has "
                    + t.dtype().torchName() + "; save the model's floats (model.float().state_dict())");
        }
    }

    /** "lstm" and "lstm." both name the prefix "lstm."; "" means none. */
    private static String normalise(String p) {
        if (p.isEmpty() || p.endsWith(".")) {
            return p;
        }
        return p + ".";
    }

    /** The one prefix under which nn.LSTM or nn.LSTMCell weights stand. */
    static String findPrefix(StateDict sd) {
        Set<String> found = candidatePrefixes(sd);
        String where = sd.sourceName() + ": ";
        if (found.isEmpty()) {
            throw new ModelException(where + "no LSTM weights found: expected keys like 'lstm.weight_ih_l0' (nn.LSTM) or"
                    + " 'cell.weight_ih' (nn.LSTMCell); the file has " + sd.tensors().size() + " tensors"
                    + (sd.tensors().isEmpty() ? "" : ": " + abbreviate(sd.tensors().keySet())));
        }
        if (found.size() > 1) {
            throw new ModelException(where + "several LSTMs in the file, under prefixes " + quoted(found)
                    + "; choose one with LoadOptions.withPrefix");
        }
        return found.iterator().next();
    }

    private static Lstm stackedLstm(StateDict sd, String prefix, Set<String> used) {
        Map<String, Tensor> all = sd.tensors();
        Tensor ih0 = all.get(prefix + "weight_ih_l0");
        if (ih0 == null) {
            throw new ModelException("no tensor " + Names.safe(prefix + "weight_ih_l0") + "; LSTM prefixes in the file: "
                    + quoted(candidatePrefixes(sd)));
        }
        otherRecurrentLayer(prefix, "_l0", ih0, all.get(prefix + "weight_hh_l0"), all.containsKey(prefix + "weight_hr_l0"));
        if (ih0.rank() != 2 || ih0.size(0) % 4 != 0 || ih0.size(0) == 0) {
            throw new ModelException(Names.safe(prefix + "weight_ih_l0") + ": expected shape (4*hidden, input), file has " + Tensor.shapeString(ih0.shape())
                    + (ih0.rank() == 2 && ih0.size(0) % 3 == 0 ? " (3*hidden rows: a GRU, not an LSTM?)" : ""));
        }
        int hidden = ih0.size(0) / 4;
        int input = ih0.size(1);
        // every key directly under the prefix must be an LSTM parameter
        int layers = 0;
        Set<Integer> ihLayers = new java.util.HashSet<>();
        int proj = 0;
        boolean reverse = false;
        boolean bias = false;
        for (String k : all.keySet()) {
            if (!k.startsWith(prefix)) {
                continue;
            }
            String rest = k.substring(prefix.length());
            if (rest.contains(".")) {
                continue; // a sub-module, not this LSTM's own parameter
            }
            Matcher m = LSTM_KEY.matcher(rest);
            if (!m.matches()) {
                throw new ModelException(Names.safe(k) + ": unexpected tensor among the LSTM's; nn.LSTM has only weight_ih/weight_hh/bias_ih/bias_hh/"
                        + "weight_hr _l{k}[_reverse]. Remove it, or choose another prefix with LoadOptions.withPrefix");
            }
            // layers and directions come from weight_ih alone, so a stray key is reported as stray, not as a layer
            if (m.group(1).equals("weight_ih")) {
                int layer = layerIndex(k, m.group(2));
                ihLayers.add(layer);
                layers = Math.max(layers, layer + 1);
                reverse |= m.group(3) != null;
            }
            bias |= m.group(1).startsWith("bias");
            if (m.group(1).equals("weight_hr") && proj == 0 && all.get(k).rank() >= 1) {
                proj = all.get(k).size(0);
            }
        }
        // nothing is sized from the largest index until every index below it is known to be present
        if (ihLayers.size() != layers) {
            List<Integer> absent = new ArrayList<>();
            for (int l = 0; l < layers && absent.size() < 3; l++) {
                if (!ihLayers.contains(l)) {
                    absent.add(l);
                }
            }
            throw new ModelException(Names.safe(prefix) + "weight_ih_l" + (layers - 1) + " names layer " + (layers - 1) + ", but the file has"
                    + " weight_ih for only " + ihLayers.size() + " layer" + (ihLayers.size() == 1 ? "" : "s") + " (no layer " + absent.get(0)
                    + (absent.size() > 1 ? ", " + absent.get(1) : "") + (absent.size() > 2 ? ", …" : "") + "); nn.LSTM numbers its layers 0 to"
                    + " num_layers - 1. Remove the stray tensor, or choose another prefix with LoadOptions.withPrefix");
        }
        LstmConfig config = new LstmConfig(input, hidden, layers, reverse, proj, bias);
        // expected keys, in PyTorch's order
        List<String> missing = new ArrayList<>();
        List<CellWeights> cells = new ArrayList<>();
        Set<String> expected = new LinkedHashSet<>();
        for (int l = 0; l < layers; l++) {
            for (int d = 0; d < config.directions(); d++) {
                String s = LstmConfig.suffix(l, d);
                Tensor[] t = new Tensor[5];
                String[] names = {"weight_ih_", "weight_hh_", "bias_ih_", "bias_hh_", "weight_hr_"};
                for (int j = 0; j < 5; j++) {
                    if ((j == 2 || j == 3) && !bias || j == 4 && proj == 0) {
                        continue;
                    }
                    String key = prefix + names[j] + s;
                    expected.add(key);
                    t[j] = all.get(key);
                    if (t[j] == null) {
                        missing.add(key);
                    } else {
                        requireFloat(key, t[j]);
                    }
                }
                if (missing.isEmpty()) {
                    cells.add(new CellWeights(t[0], t[1], t[2], t[3], t[4]));
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new ModelException("missing LSTM tensors " + safeList(missing) + " for " + config + "; was the file saved from the whole model?");
        }
        List<String> extra = new ArrayList<>();
        for (String k : all.keySet()) {
            if (k.startsWith(prefix) && !k.substring(prefix.length()).contains(".") && !expected.contains(k)) {
                extra.add(k);
            }
        }
        if (!extra.isEmpty()) {
            throw new ModelException("stray LSTM tensors " + safeList(extra) + " do not fit " + config
                    + " (layers and directions inferred from the " + Names.safe(prefix) + "weight_ih_* keys)");
        }
        LstmChecks.validate(config, cells, Names.safe(prefix));
        used.addAll(expected);
        return new Lstm(config, cells);
    }

    private static Lstm cellLstm(StateDict sd, String prefix, Set<String> used) {
        Map<String, Tensor> all = sd.tensors();
        for (String k : all.keySet()) {
            if (k.startsWith(prefix) && !k.substring(prefix.length()).contains(".")
                    && !CELL_KEY.matcher(k.substring(prefix.length())).matches()) {
                throw new ModelException(Names.safe(k) + ": unexpected tensor among the LSTMCell's (weight_ih, weight_hh, bias_ih, bias_hh)");
            }
        }
        Tensor ih = all.get(prefix + "weight_ih");
        Tensor hh = all.get(prefix + "weight_hh");
        if (hh == null) {
            throw new ModelException("missing " + Names.safe(prefix + "weight_hh") + ": an LSTMCell has weight_ih and weight_hh");
        }
        otherRecurrentLayer(prefix, "", ih, hh, false);
        if (ih.rank() != 2 || ih.size(0) % 4 != 0 || ih.size(0) == 0) {
            throw new ModelException(Names.safe(prefix + "weight_ih") + ": expected shape (4*hidden, input), file has " + Tensor.shapeString(ih.shape()));
        }
        Tensor bih = all.get(prefix + "bias_ih");
        Tensor bhh = all.get(prefix + "bias_hh");
        if ((bih == null) != (bhh == null)) {
            throw new ModelException("missing " + Names.safe(prefix + (bih == null ? "bias_ih" : "bias_hh")) + ": an LSTMCell has both biases or neither");
        }
        LstmConfig config = new LstmConfig(ih.size(1), ih.size(0) / 4, 1, false, 0, bih != null);
        for (String n : new String[] {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}) {
            if (all.get(prefix + n) != null) {
                requireFloat(prefix + n, all.get(prefix + n));
            }
        }
        List<CellWeights> cells = List.of(new CellWeights(ih, hh, bih, bhh, null));
        // report the cell's own names, not the _l0 names of the stacked LSTM
        try {
            LstmChecks.validate(config, cells, Names.safe(prefix));
        } catch (ModelException e) {
            throw new ModelException(e.getMessage().replace("_l0", ""), e);
        }
        used.add(prefix + "weight_ih");
        used.add(prefix + "weight_hh");
        if (bih != null) {
            used.add(prefix + "bias_ih");
            used.add(prefix + "bias_hh");
        }
        return new Lstm(config, cells);
    }

    /**
     * nn.GRU and nn.RNN (and their cells) save the same key names as nn.LSTM; their row counts tell them apart:
     * weight_ih has 3·hidden rows in a GRU and hidden rows in an RNN, where hidden is weight_hh's column count
     * (an LSTM without projection has 4·hidden).
     */
    private static void otherRecurrentLayer(String prefix, String suffix, Tensor ih, Tensor hh, boolean projected) {
        if (projected || ih == null || hh == null || ih.rank() != 2 || hh.rank() != 2 || hh.size(1) == 0) {
            return;
        }
        int rows = ih.size(0), hidden = hh.size(1);
        String kind = rows == 3 * hidden && hh.size(0) == rows ? "nn.GRU" : rows == hidden && hh.size(0) == rows ? "nn.RNN" : null;
        if (kind != null) {
            String cell = suffix.isEmpty() ? "Cell" : "";
            throw new ModelException(prefix + "weight_ih" + suffix + " " + Tensor.shapeString(ih.shape()) + " and weight_hh" + suffix + " "
                    + Tensor.shapeString(hh.shape()) + " have " + (kind.equals("nn.GRU") ? "3×" : "1×") + " hidden = " + rows
                    + " gate rows: this is an " + kind + cell + ", not an nn.LSTM" + cell + " (4×hidden rows). lstm4j reads nn.LSTM and"
                    + " nn.LSTMCell only; a " + kind.substring(3) + " cannot run as an LSTM");
        }
    }

    /** Prefixes P with {@code P + "weight_ih_l0"} (nn.LSTM), or {@code P + "weight_ih"} and {@code P + "weight_hh"} (nn.LSTMCell). */
    private static Set<String> candidatePrefixes(StateDict sd) {
        Set<String> found = new TreeSet<>();
        for (String k : sd.tensors().keySet()) {
            if (k.endsWith("weight_ih_l0")) {
                found.add(k.substring(0, k.length() - "weight_ih_l0".length()));
            } else if (k.endsWith("weight_ih") && sd.tensors().containsKey(k.substring(0, k.length() - 2) + "hh")) {
                found.add(k.substring(0, k.length() - "weight_ih".length()));
            }
        }
        return found;
    }

    /**
     * Prefixes {@code P} with a 2-D {@code P + "weight"} outside the LSTM whose in_features is {@code inFeatures}
     * (any when negative), with a 1-D {@code P + "bias"} of matching size or no bias.
     */
    static List<String> headCandidates(StateDict sd, String lstmPrefix, int inFeatures) {
        List<String> found = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : sd.tensors().entrySet()) {
            String k = e.getKey();
            if (!k.endsWith("weight") || (k.startsWith(lstmPrefix) && !k.substring(lstmPrefix.length()).contains("."))) {
                continue;
            }
            String p = k.substring(0, k.length() - "weight".length());
            if (!(p.isEmpty() || p.endsWith("."))) {
                continue;
            }
            Tensor w = e.getValue();
            Tensor b = sd.tensors().get(p + "bias");
            if (w.rank() == 2 && (inFeatures < 0 || w.size(1) == inFeatures)
                    && (b == null || b.rank() == 1 && b.size(0) == w.size(0))) {
                found.add(p);
            }
        }
        return found;
    }

    private static String findHead(StateDict sd, String lstmPrefix, int inFeatures) {
        List<String> found = headCandidates(sd, lstmPrefix, inFeatures);
        if (found.size() > 1) {
            throw new ModelException(sd.sourceName() + ": several Linear heads could follow the LSTM: " + quoted(found)
                    + "; choose one with LoadOptions.withHead, or none with LoadOptions.withoutHead()");
        }
        return found.isEmpty() ? null : found.get(0);
    }

    private static String describeCandidates(List<String> c) {
        return c.isEmpty() ? "none" : quoted(c);
    }

    private static String quoted(java.util.Collection<String> c) {
        StringBuilder b = new StringBuilder();
        for (String s : c) {
            if (b.length() > 0) {
                b.append(", ");
            }
            if (b.length() > 1000) {
                b.append("…");
                break;
            }
            b.append('\'').append(Names.safe(s)).append('\'');
        }
        return b.toString();
    }

    private static String abbreviate(Set<String> keys) {
        List<String> l = new ArrayList<>();
        for (String k : keys) {
            if (l.size() == 8) {
                break;
            }
            l.add(Names.safe(k));
        }
        return keys.size() <= 8 ? String.join(", ", l) : String.join(", ", l) + ", … (" + (keys.size() - 8) + " more)";
    }

    /** A list of keys for a message: each escaped, at most 8. */
    private static String safeList(List<String> keys) {
        List<String> l = new ArrayList<>();
        for (String k : keys) {
            if (l.size() == 8) {
                l.add("… (" + (keys.size() - 8) + " more)");
                break;
            }
            l.add(Names.safe(k));
        }
        return l.toString();
    }

    /**
     * The layer index of an {@code _l<k>} key: a number of at most {@value #MAX_LAYER_INDEX}, so that a key
     * like {@code weight_ih_l99999999999} is refused by name instead of overflowing or sizing anything.
     */
    private static int layerIndex(String key, String digits) {
        if (digits.length() > 6 || Integer.parseInt(digits) > MAX_LAYER_INDEX) {
            throw new ModelException(Names.safe(key) + ": layer index " + Names.safe(digits, 24) + " is not a plausible layer number"
                    + " (at most " + MAX_LAYER_INDEX + " are read); nn.LSTM numbers its layers 0 to num_layers - 1."
                    + " Remove the tensor, or choose another prefix with LoadOptions.withPrefix");
        }
        return Integer.parseInt(digits);
    }
}
