package dev.lstm4j.io;

import dev.lstm4j.FileFormatException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads a weights file of any supported format, detected by its content, not its name. */
public final class WeightsFiles {
    private WeightsFiles() {
    }

    /**
     * Reads all tensors of a weights file.
     *
     * @throws FileFormatException when the file is missing, of an unsupported format, or corrupt
     */
    public static StateDict read(Path file) {
        byte[] head = new byte[16];
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
            return Safetensors.read(file);
        }
        throw new FileFormatException(file, "not a weights file lstm4j can read: " + describe(got, size)
                + ". Save the state dict as safetensors (safetensors.torch.save_file(model.state_dict(), 'model.safetensors'))");
    }

    /** A short guess at what the file is, from its first bytes. */
    static String describe(byte[] head, long size) {
        if (size == 0) {
            return "the file is empty";
        }
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return "it is a zip archive (a torch.save .pt or a .npz file), which this version does not read";
        }
        if (head.length >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) {
            return "it is a bare pickle (a legacy torch.save file)";
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
