package dev.lstm4j.internal.io;

import dev.lstm4j.StateDict;
import dev.lstm4j.FileFormatException;
import dev.lstm4j.internal.Names;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads a weights file of any supported format, detected by its content, not its name: safetensors,
 * {@code torch.save} (.pt, .pth, .bin; zip format) and NumPy {@code .npz}. Legacy torch.save files,
 * TorchScript archives and whole pickled models are recognised and refused with the fix.
 */
public final class WeightsFiles {
    private WeightsFiles() {
    }

    /**
     * Reads all tensors of a weights file.
     *
     * @throws FileFormatException when the file is missing, of an unsupported format, or corrupt
     */
    public static StateDict read(Path file) {
        return read(file, null);
    }

    /**
     * Reads all tensors of a weights file; in a torch.save checkpoint dict, those of the state dict at
     * {@code key} (see {@link TorchFiles#read(Path, String)}).
     *
     * @param key the checkpoint entry holding the state dict, or null to find it; only for torch.save files
     * @throws FileFormatException when the file is missing, of an unsupported format, or corrupt
     */
    public static StateDict read(Path file, String key) {
        return read(file, key, Budget.defaultMaxBytes());
    }

    /**
     * As {@link #read(Path, String)}, refusing a file whose tensors (at their expanded size: elements ×
     * dtype size) and zip entries (at their inflated size) add up to more than {@code maxBytes}. The
     * default, {@link #defaultMaxBytes()}, is half the JVM's maximum heap, at most 4 GiB.
     *
     * @param maxBytes the most one file may expand to, checked from declared sizes before allocating
     * @throws FileFormatException when the file is missing, of an unsupported format, corrupt, or over the limit
     */
    public static StateDict read(Path file, String key, long maxBytes) {
        Budget budget = new Budget(file, maxBytes);
        byte[] head = new byte[512];
        long size;
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            size = Files.size(file);
            n = in.readNBytes(head, 0, head.length);
        } catch (NoSuchFileException e) {
            throw new FileFormatException(file, "no such file");
        } catch (IOException e) {
            throw new FileFormatException(file, "cannot read: " + e.getMessage(), e);
        }
        byte[] got = java.util.Arrays.copyOf(head, n);
        if (Safetensors.sniff(got, size)) {
            noKey(file, key, "safetensors");
            return Safetensors.read(file, budget);
        }
        if (Zip.sniff(got)) {
            try (FileChannel ch = Bytes.open(file)) {
                Zip zip = Zip.open(ch, file, budget);
                if (TorchFiles.isTorchArchive(zip)) {
                    return TorchFiles.read(zip, key, budget);
                }
                if (Npz.isNpz(zip)) {
                    noKey(file, key, ".npz");
                    return Npz.read(zip, budget);
                }
                throw new FileFormatException(file, "a zip archive that is neither a torch.save file (no <folder>/data.pkl) nor an .npz"
                        + " (entries are not all .npy): " + entryNames(zip));
            } catch (IOException e) {
                throw new UncheckedIOException(file + ": " + e.getMessage(), e);
            }
        }
        if (n >= 2 && (got[0] & 0xff) == 0x80 && got[1] >= 2 && got[1] <= 5) {
            throw TorchFiles.legacy(file, prefix(file, size));
        }
        if (n >= 262 && new String(got, 257, 5, java.nio.charset.StandardCharsets.US_ASCII).equals("ustar")) {
            throw new FileFormatException(file, "a tar archive: a legacy torch.save file from PyTorch 0.3 or earlier, which lstm4j does not"
                    + " read. Re-save it with a current PyTorch (for a file you trust): torch.save(torch.load(\"" + file.getFileName()
                    + "\", weights_only=False), \"model.pt\")");
        }
        throw new FileFormatException(file, "not a weights file lstm4j can read: " + describe(got, size)
                + ". lstm4j reads safetensors, torch.save (.pt) and .npz state dicts"
                + " (e.g. torch.save(model.state_dict(), 'model.pt'))");
    }

    /** The default {@code maxBytes}: half the JVM's maximum heap, at most 4 GiB (at least 64 MiB). */
    public static long defaultMaxBytes() {
        return Budget.defaultMaxBytes();
    }

    private static void noKey(Path file, String key, String format) {
        if (key != null) {
            throw new FileFormatException(file, "checkpoint key (LoadOptions.withCheckpointKey) '" + Names.safe(key) + "' selects an entry of a torch.save checkpoint, but this is a " + format
                    + " file, which holds one flat state dict; drop the checkpoint key");
        }
    }

    private static String entryNames(Zip zip) {
        StringBuilder b = new StringBuilder();
        for (Zip.Entry e : zip.entries()) {
            if (b.length() > 200) {
                b.append(", …");
                break;
            }
            b.append(b.length() == 0 ? "" : ", ").append(Names.safe(e.name()));
        }
        return b.length() == 0 ? "(empty)" : b.toString();
    }

    /** The file's first bytes, enough for the pickles of a legacy torch.save file. */
    private static byte[] prefix(Path file, long size) {
        try (FileChannel ch = Bytes.open(file)) {
            return Bytes.read(ch, file, 0, (int) Math.min(size, TorchFiles.MAX_PICKLE_BYTES)).array();
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    /** A short guess at what the file is, from its first bytes. */
    static String describe(byte[] head, long size) {
        if (size == 0) {
            return "the file is empty";
        }
        if (Npy.sniff(head)) {
            return "it is a single .npy array, not a state dict";
        }
        if (head.length >= 8) {
            long n = java.nio.ByteBuffer.wrap(head, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            if (head.length > 8 && head[8] == '{') {
                return "its safetensors header length " + Long.toUnsignedString(n) + " does not fit the " + size + "-byte file (truncated?)";
            }
        }
        return "unrecognised content (" + size + " bytes)";
    }
}
