package dev.lstm4j.internal.io;

import dev.lstm4j.StateDict;
import dev.lstm4j.DType;
import dev.lstm4j.FileFormatException;
import dev.lstm4j.Tensor;
import dev.lstm4j.internal.Names;
import dev.lstm4j.internal.io.RestrictedUnpickler.Device;
import dev.lstm4j.internal.io.RestrictedUnpickler.Dict;
import dev.lstm4j.internal.io.RestrictedUnpickler.Storage;
import dev.lstm4j.internal.io.RestrictedUnpickler.StorageType;
import dev.lstm4j.internal.io.RestrictedUnpickler.TensorRef;
import dev.lstm4j.internal.io.RestrictedUnpickler.Tuple;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reads {@code torch.save} files (the zip format of PyTorch 1.6 and later) without Python and without
 * running their pickle.
 *
 * <p>The archive holds {@code <top>/data.pkl} (the pickled object), {@code <top>/data/<key>} (one raw
 * entry per storage), {@code <top>/version} or {@code <top>/.data/version}, and since PyTorch 2.1
 * {@code <top>/byteorder}. The top folder's name varies and is found, not assumed. The pickle is read by
 * {@link RestrictedUnpickler}; each storage it names must exist with exactly {@code numel × element
 * size} bytes, and each tensor's offset, sizes and strides must stay inside its storage. Views that share
 * a storage and non-contiguous tensors are read element by element through their strides.
 *
 * <p>The pickled object may be a state dict or a checkpoint dict holding one (for example
 * {@code {"model": state_dict, "optimizer": ..., "epoch": 7}}): see {@link #read(Path, String)}.
 * Whole pickled models, TorchScript archives and legacy (pre-1.6) files are recognised and refused with
 * the line of PyTorch that re-saves them as a state dict.
 */
public final class TorchFiles {
    /** Largest {@code data.pkl} read; a state dict's pickle is a few hundred bytes per tensor. */
    public static final int MAX_PICKLE_BYTES = 64 << 20;
    /** Newest archive format version known (PyTorch writes 3 for torch.save). */
    static final int MAX_VERSION = 10;
    private static final int MAX_SEARCH_NODES = 100_000;
    /** Elements views may add beyond twice their storages' (expanded tensors are legal but rare). */
    static final long MIN_ELEMENT_BUDGET = 1 << 24;
    private static final int MAX_SEARCH_DEPTH = 16;
    private static final Pattern LSTM_KEY = Pattern.compile("(^|.*\\.)weight_ih(_l\\d+(_reverse)?)?$");
    /** The pickled legacy magic number, protocol 2: PROTO 2, LONG1 10 bytes 0x1950a86a20f9469cfc6c, STOP. */
    static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);

    private TorchFiles() {
    }

    /** Reads the state dict of a torch.save file; a checkpoint must hold exactly one candidate. */
    public static StateDict read(Path file) {
        return read(file, null);
    }

    /**
     * Reads the state dict of a torch.save file.
     *
     * @param key in a checkpoint dict, the entry that holds the state dict ({@code model}, or a path
     *            {@code state/model} through nested dicts); null to find the only candidate
     * @throws FileFormatException when the file is not a readable torch.save file, is refused, or holds
     *                             no state dict (or several and no key)
     */
    public static StateDict read(Path file, String key) {
        return read(file, key, Budget.defaultMaxBytes());
    }

    /**
     * As {@link #read(Path, String)}, refusing a file whose entries and tensors expand to more than
     * {@code maxBytes} (see {@link Budget}).
     */
    public static StateDict read(Path file, String key, long maxBytes) {
        try (FileChannel ch = Bytes.open(file)) {
            Budget budget = new Budget(file, maxBytes);
            return read(Zip.open(ch, file, budget), key, budget);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    /** True when the zip holds a torch.save archive or a TorchScript archive (refused on reading). */
    static boolean isTorchArchive(Zip zip) {
        for (Zip.Entry e : zip.entries()) {
            String n = e.name();
            int slash = n.indexOf('/');
            if (slash > 0 && n.indexOf('/', slash + 1) < 0 && n.endsWith("/data.pkl")) {
                return true;
            }
        }
        return torchScript(zip) != null;
    }

    /** The TorchScript marker entry ({@code constants.pkl} or {@code code/}), or null. */
    private static String torchScript(Zip zip) {
        for (Zip.Entry e : zip.entries()) {
            String n = e.name();
            int slash = n.indexOf('/');
            String rest = slash < 0 ? n : n.substring(slash + 1);
            if (rest.equals("constants.pkl") || rest.startsWith("code/")) {
                return n;
            }
        }
        return null;
    }

    static StateDict read(Zip zip, String key, Budget budget) {
        Path file = zip.file();
        String name = fileName(file);
        String ts = torchScript(zip);
        if (ts != null) {
            throw new FileFormatException(file, "a TorchScript archive (it has " + Names.safe(ts) + "), not a torch.save state dict. Re-save its"
                    + " weights in Python: torch.save(torch.jit.load(\"" + name + "\").state_dict(), \""
                    + RestrictedUnpickler.stem(name) + ".state_dict.pt\")");
        }
        List<String> tops = new ArrayList<>();
        for (Zip.Entry e : zip.entries()) {
            String n = e.name();
            int slash = n.indexOf('/');
            if (slash > 0 && n.substring(slash + 1).equals("data.pkl")) {
                tops.add(n.substring(0, slash));
            }
        }
        if (tops.size() != 1) {
            throw new FileFormatException(file, tops.isEmpty() ? "zip archive has no <folder>/data.pkl: not a torch.save file"
                    : "zip archive has several data.pkl records (" + Names.safe(String.valueOf(tops)) + "); not a single torch.save file");
        }
        String top = tops.get(0) + "/";
        String safeTop = Names.safe(top);
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format_version", String.valueOf(version(zip, top)));
        ByteOrder order = byteOrder(zip, top);
        Zip.Entry pklEntry = zip.find(top + "data.pkl");
        if (pklEntry.size() > MAX_PICKLE_BYTES) {
            throw new FileFormatException(file, safeTop + "data.pkl is " + pklEntry.size() + " bytes, more than the " + MAX_PICKLE_BYTES
                    + " accepted; save only the state dict");
        }
        byte[] pkl = zip.read(pklEntry);
        Map<String, Storage> storages = new HashMap<>();
        RestrictedUnpickler.StorageLoader loader = (type, k, location, numel) -> {
            Storage s = storage(zip, top, type, k, location, numel);
            Storage first = storages.putIfAbsent(k, s);
            if (first != null && (first.dtype() != s.dtype() || first.numel() != s.numel())) {
                // torch.load keeps the first typed storage for a key and reuses it: the second dtype would be silently ignored
                throw new FileFormatException(file, "the pickle names storage '" + Names.safe(k) + "' twice, as " + first.numel() + " "
                        + first.dtype().torchName() + " and as " + s.numel() + " " + s.dtype().torchName() + " elements; torch.load"
                        + " would read both as " + first.dtype().torchName() + ". Refusing an ambiguous file; re-save it with"
                        + " torch.save(model.state_dict(), \"model.pt\")");
            }
            return first == null ? s : first;
        };
        Object root = RestrictedUnpickler.load(pkl, 0, pkl.length, file, safeTop + "data.pkl", loader).value();
        Found found = findStateDict(root, key, file);
        if (!found.path().isEmpty()) {
            metadata.put("key", found.path());
        }
        if (root instanceof Dict d && d != found.dict()) {
            for (Map.Entry<Object, Object> e : d.map.entrySet()) {
                Object v = e.getValue();
                if (e.getKey() instanceof String k && (v instanceof String str && str.length() <= 200 || v instanceof Long || v instanceof Double
                        || v instanceof Boolean || v instanceof BigInteger)) {
                    metadata.putIfAbsent(k, v.toString());
                }
            }
        }
        // views may overlap (stride 0 expands one element to many): cap what they add up to
        Map<String, Long> stored = new HashMap<>();
        for (Object v : found.dict().map.values()) {
            if (v instanceof TensorRef t) {
                stored.merge(t.storage().key(), t.storage().numel(), Math::max);
            }
        }
        long elementBudget = MIN_ELEMENT_BUDGET;
        for (long n : stored.values()) {
            elementBudget += 2 * n;
        }
        long total = 0;
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, ByteBuffer> data = new HashMap<>();
        for (Map.Entry<Object, Object> e : found.dict().map.entrySet()) {
            if (!(e.getValue() instanceof TensorRef t)) {
                continue; // a module's _extra_state
            }
            String k = (String) e.getKey();
            total += Tensor.elementCount(t.size());
            long bytes = Tensor.elementCount(t.size()) * t.storage().dtype().bytes();
            if (total > elementBudget) {
                throw new FileFormatException(file, "the state dict's tensors add up to more than " + elementBudget + " elements, over twice what"
                        + " their storages hold (" + (elementBudget - MIN_ELEMENT_BUDGET) / 2 + "); refusing to expand views that far."
                        + " Save contiguous copies: {k: v.contiguous() for k, v in state_dict.items()}");
            }
            if (bytes > Zip.MAX_ENTRY_BYTES) {
                throw new FileFormatException(file, "tensor '" + Names.safe(k) + "' of shape " + Tensor.shapeString(t.size()) + " is "
                        + bytes + " bytes; lstm4j reads tensors of at most 2 GiB (" + Zip.MAX_ENTRY_BYTES + " bytes)");
            }
            budget.charge(bytes, "tensor '" + Names.safe(k) + "' (a view of storage '" + Names.safe(t.storage().key()) + "')");
            ByteBuffer buf = data.computeIfAbsent(t.storage().key(), s -> Zip.wrap(zip.read(zip.find(top + "data/" + s))).order(order));
            tensors.put(k, tensor(t, buf));
        }
        return new StateDict(file, "torch.save", tensors, metadata);
    }

    private static String fileName(Path file) {
        Path n = file.getFileName();
        return n == null ? "model.pt" : n.toString();
    }

    private static int version(Zip zip, String top) {
        Zip.Entry e = zip.find(top + ".data/version");
        if (e == null) {
            e = zip.find(top + "version");
        }
        if (e == null) {
            throw new FileFormatException(zip.file(), "torch.save archive has no " + Names.safe(top) + "version record; the file is incomplete");
        }
        String text = e.size() > 64 ? "" : new String(zip.read(e), StandardCharsets.US_ASCII).strip();
        int v;
        try {
            v = Integer.parseInt(text);
        } catch (NumberFormatException ex) {
            v = -1;
        }
        if (v < 1 || v > MAX_VERSION) {
            throw new FileFormatException(zip.file(), Names.safe(e.name()) + " says '" + Names.safe(text, 20)
                    + "'; lstm4j reads torch.save format versions 1 to " + MAX_VERSION);
        }
        return v;
    }

    private static ByteOrder byteOrder(Zip zip, String top) {
        Zip.Entry e = zip.find(top + "byteorder");
        if (e == null) {
            return ByteOrder.LITTLE_ENDIAN; // written since PyTorch 2.1; older files are little-endian
        }
        String text = e.size() > 16 ? "" : new String(zip.read(e), StandardCharsets.US_ASCII).strip();
        return switch (text) {
            case "little" -> ByteOrder.LITTLE_ENDIAN;
            case "big" -> ByteOrder.BIG_ENDIAN;
            default -> throw new FileFormatException(zip.file(), Names.safe(e.name()) + " must say 'little' or 'big', found '"
                    + Names.safe(text, 20) + "'");
        };
    }

    private static Storage storage(Zip zip, String top, StorageType type, String key, String location, long numel) {
        Zip.Entry e = zip.find(top + "data/" + key);
        if (e == null) {
            throw new FileFormatException(zip.file(), "the pickle names storage '" + Names.safe(key) + "', but the archive has no "
                    + Names.safe(top + "data/" + key) + "; the file is incomplete");
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(numel, type.dtype().bytes());
        } catch (ArithmeticException ex) {
            bytes = -1;
        }
        if (bytes != e.size()) {
            throw new FileFormatException(zip.file(), "storage '" + Names.safe(key) + "' of " + numel + " " + type.dtype().torchName() + " elements needs "
                    + (bytes < 0 ? "more than 2^63" : String.valueOf(bytes)) + " bytes, but " + Names.safe(e.name()) + " holds " + e.size());
        }
        return new Storage(key, type.dtype(), numel, location);
    }

    /** The tensor's elements, row-major, read from its storage through offset and strides. */
    private static Tensor tensor(TensorRef t, ByteBuffer buf) {
        int[] shape = t.size();
        long[] stride = t.stride();
        int count = (int) Tensor.elementCount(shape);
        DType dtype = t.storage().dtype();
        double[] values = new double[count];
        int rank = shape.length;
        int[] idx = new int[rank];
        long at = t.offset();
        for (int i = 0; i < count; i++) {
            values[i] = element(buf, dtype, (int) (at * dtype.bytes()));
            // advance the multi-index like an odometer, moving the storage position by the strides
            for (int k = rank - 1; k >= 0; k--) {
                if (++idx[k] < shape[k]) {
                    at += stride[k];
                    break;
                }
                at -= (long) (shape[k] - 1) * stride[k];
                idx[k] = 0;
            }
        }
        return Tensor.of(dtype, shape, values);
    }

    private static double element(ByteBuffer buf, DType dtype, int at) {
        return switch (dtype) {
            case F16 -> DType.halfToDouble(buf.getShort(at));
            case BF16 -> DType.bfloat16ToDouble(buf.getShort(at));
            case F32 -> buf.getFloat(at);
            case F64 -> buf.getDouble(at);
            case I8 -> buf.get(at);
            case U8 -> buf.get(at) & 0xff;
            case BOOL -> buf.get(at) != 0 ? 1 : 0;
            case I16 -> buf.getShort(at);
            case I32 -> buf.getInt(at);
            case I64 -> buf.getLong(at);
        };
    }

    // ---- finding the state dict in a checkpoint ----

    /** A dict of tensors and where it was found ("" for the pickled object itself). */
    record Found(Dict dict, String path) {
    }

    /**
     * What model.state_dict() gives: a dict with string keys whose values are tensors, except for the
     * {@code *_extra_state} entries some modules add (skipped).
     */
    private static boolean isStateDict(Object o) {
        if (!(o instanceof Dict d)) {
            return false;
        }
        boolean tensor = false;
        for (Map.Entry<Object, Object> e : d.map.entrySet()) {
            if (!(e.getKey() instanceof String k) || !(e.getValue() instanceof TensorRef) && !k.endsWith("_extra_state")) {
                return false;
            }
            tensor |= e.getValue() instanceof TensorRef;
        }
        return tensor;
    }

    static Found findStateDict(Object root, String key, Path file) {
        if (key != null) {
            Object at = navigate(root, key, file);
            if (!isStateDict(at)) {
                throw new FileFormatException(file, "checkpoint key (LoadOptions.withCheckpointKey) '" + Names.safe(key) + "' holds " + summary(at) + ", not a state dict of tensors; "
                        + candidatesText(root));
            }
            return new Found((Dict) at, key);
        }
        if (isStateDict(root)) {
            return new Found((Dict) root, "");
        }
        List<Found> all = candidates(root);
        List<Found> lstm = new ArrayList<>();
        for (Found f : all) {
            for (Object k : f.dict().map.keySet()) {
                if (LSTM_KEY.matcher((String) k).matches()) {
                    lstm.add(f);
                    break;
                }
            }
        }
        if (all.size() == 1) {
            return all.get(0);
        }
        if (lstm.size() == 1) {
            return lstm.get(0);
        }
        if (all.isEmpty()) {
            throw new FileFormatException(file, "holds " + summary(root) + " with no state dict (a dict of name -> tensor) in it;"
                    + " save one with torch.save(model.state_dict(), \"model.pt\")");
        }
        throw new FileFormatException(file, "holds several dicts of tensors that could be the state dict: "
                + quoted(lstm.isEmpty() ? all : lstm) + "; choose one with LoadOptions.withCheckpointKey");
    }

    /** Follows a key through nested dicts: first as one key, then split at '/'. */
    private static Object navigate(Object root, String key, Path file) {
        if (root instanceof Dict d && d.map.containsKey(key)) {
            return d.map.get(key);
        }
        Object at = root;
        for (String part : key.split("/", -1)) {
            Object next = null;
            boolean found = false;
            if (at instanceof Dict d) {
                found = d.map.containsKey(part);
                next = d.map.get(part);
            } else if ((at instanceof List<?> || at instanceof Tuple) && part.matches("\\d{1,9}")) {
                List<?> l = at instanceof Tuple t ? t.items() : (List<?>) at;
                int i = Integer.parseInt(part);
                found = i < l.size();
                next = found ? l.get(i) : null;
            }
            if (!found) {
                throw new FileFormatException(file, "checkpoint key (LoadOptions.withCheckpointKey) '" + Names.safe(key) + "': no entry '" + Names.safe(part) + "' in " + summary(at) + "; "
                        + candidatesText(root));
            }
            at = next;
        }
        return at;
    }

    /** Every state-dict-like dict below the root, breadth first, bounded in depth and size, cycle-safe. */
    private static List<Found> candidates(Object root) {
        List<Found> out = new ArrayList<>();
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object[]> queue = new ArrayDeque<>();
        queue.add(new Object[] {root, "", 0});
        int visited = 0;
        while (!queue.isEmpty() && visited < MAX_SEARCH_NODES) {
            Object[] item = queue.poll();
            Object o = item[0];
            String path = (String) item[1];
            int depth = (Integer) item[2];
            if (!seen.add(o)) {
                continue;
            }
            visited++;
            if (isStateDict(o)) {
                out.add(new Found((Dict) o, path));
                continue;
            }
            if (depth >= MAX_SEARCH_DEPTH) {
                continue;
            }
            if (o instanceof Dict d) {
                for (Map.Entry<Object, Object> e : d.map.entrySet()) {
                    if (isContainer(e.getValue())) {
                        queue.add(new Object[] {e.getValue(), join(path, String.valueOf(e.getKey())), depth + 1});
                    }
                }
            } else if (o instanceof List<?> || o instanceof Tuple) {
                List<?> l = o instanceof Tuple t ? t.items() : (List<?>) o;
                for (int i = 0; i < l.size(); i++) {
                    if (isContainer(l.get(i))) {
                        queue.add(new Object[] {l.get(i), join(path, String.valueOf(i)), depth + 1});
                    }
                }
            }
        }
        return out;
    }

    private static boolean isContainer(Object o) {
        return o instanceof Dict || o instanceof List<?> || o instanceof Tuple;
    }

    private static String join(String path, String part) {
        return path.isEmpty() ? part : path + "/" + part;
    }

    private static String candidatesText(Object root) {
        List<Found> all = candidates(root);
        return all.isEmpty() ? "the file holds no dict of tensors" : "dicts of tensors in the file: " + quoted(all);
    }

    private static String quoted(List<Found> found) {
        Set<String> names = new TreeSet<>();
        for (Found f : found) {
            names.add("'" + (f.path().isEmpty() ? "(top level)" : Names.safe(f.path())) + "' (" + f.dict().map.size() + " tensors)");
        }
        if (names.size() > 20) {
            int more = names.size() - 20;
            return String.join(", ", new ArrayList<>(names).subList(0, 20)) + ", … (" + more + " more)";
        }
        return String.join(", ", names);
    }

    /** What a value is, for messages: a dict's first keys, a list's length; never deep. */
    static String summary(Object o) {
        if (o instanceof Dict d) {
            List<String> keys = new ArrayList<>();
            for (Object k : d.map.keySet()) {
                if (keys.size() == 6) {
                    keys.add("…");
                    break;
                }
                keys.add(RestrictedUnpickler.describe(k));
            }
            return "a " + RestrictedUnpickler.typeName(o) + " with keys [" + String.join(", ", keys) + "]";
        }
        if (o instanceof TensorRef || o instanceof Device) {
            return "a " + RestrictedUnpickler.typeName(o);
        }
        return "a " + RestrictedUnpickler.typeName(o) + (o instanceof List<?> || o instanceof Tuple ? " (" + RestrictedUnpickler.describe(o) + ")" : "");
    }

    // ---- legacy files ----

    /**
     * Refuses a legacy (pre-1.6) torch.save file with the line that re-saves it. The pickled object is
     * read with the restricted unpickler (storages as placeholders, no data) only to tell a state dict
     * from a whole model, so the advice fits.
     */
    static FileFormatException legacy(Path file, byte[] prefix) {
        String name = fileName(file);
        String stem = RestrictedUnpickler.stem(name);
        String stateDictLine = "torch.save(torch.load(\"" + name + "\"), \"" + stem + ".new.pt\")";
        String modelLine = "torch.save(torch.load(\"" + name + "\", weights_only=False).state_dict(), \"" + stem + ".state_dict.pt\")";
        String what = "legacy torch.save file (PyTorch before 1.6, or _use_new_zipfile_serialization=False), which lstm4j does not read.";
        String bare = "a bare Python pickle, not a torch.save file; lstm4j reads torch.save (.pt), safetensors and .npz files."
                + " Save the weights with torch.save(model.state_dict(), \"model.pt\")";
        RestrictedUnpickler.Result first;
        try {
            first = RestrictedUnpickler.load(prefix, 0, prefix.length, file, "pickle", null);
        } catch (RestrictedUnpickler.RefusedGlobal e) {
            return e.dangerous ? e : new FileFormatException(file, bare + " (" + e.getMessage().substring(file.toString().length() + 2) + ")");
        } catch (FileFormatException e) {
            return new FileFormatException(file, "starts like a pickle but is not a readable one; " + e.getMessage(), e);
        }
        if (!LEGACY_MAGIC.equals(first.value())) {
            return new FileFormatException(file, bare);
        }
        try {
            int pos = first.end();
            for (int i = 1; i < 4; i++) {
                RestrictedUnpickler.StorageLoader placeholder = (type, k, location, numel) -> new Storage(k, type.dtype(), numel, location);
                pos = RestrictedUnpickler.load(prefix, pos, prefix.length, file, "legacy pickle " + (i + 1), i == 3 ? placeholder : null).end();
            }
            return new FileFormatException(file, "a " + what + " It holds a state dict or checkpoint; re-save it in the current format"
                    + " (in Python): " + stateDictLine);
        } catch (RestrictedUnpickler.RefusedGlobal e) {
            if (e.dangerous) {
                return e;
            }
            return new FileFormatException(file, "a " + what + " It holds " + (e.looksLikeModel ? "a whole pickled model ("
                    + Names.safe(e.module + "." + e.name) + ")" : "objects other than tensors") + "; re-save its weights (in Python, for a file you"
                    + " trust): " + modelLine);
        } catch (FileFormatException e) {
            return new FileFormatException(file, "a " + what + " Re-save it in the current format (in Python, for a file you trust): "
                    + stateDictLine + ", or for a whole model " + modelLine);
        }
    }
}
