package dev.lstm4j.internal.io;

import dev.lstm4j.StateDict;
import dev.lstm4j.DType;
import dev.lstm4j.FileFormatException;
import dev.lstm4j.Fixture;
import dev.lstm4j.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsTest {
    @TempDir
    Path tmp;

    /** A safetensors file with the given JSON header and data bytes. */
    private Path file(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path p = tmp.resolve("t.safetensors");
        Files.write(p, b.array());
        return p;
    }

    private static String fails(Path p) {
        return assertThrows(FileFormatException.class, () -> Safetensors.read(p)).getMessage();
    }

    @Test
    void roundTripsEveryFloatDtype() {
        Map<String, Tensor> in = new LinkedHashMap<>();
        double[] v = {0.5, -1.25, 3.0, 65504.0, -0.0, Double.NaN};
        for (DType d : new DType[] {DType.F16, DType.BF16, DType.F32, DType.F64}) {
            in.put("t_" + d, Tensor.of(d, new int[] {2, 3}, v));
        }
        in.put("scalar", Tensor.of(DType.F32, new int[0], new double[] {7}));
        Path p = tmp.resolve("rt.safetensors");
        Safetensors.write(p, in, Map.of("torch_version", "x"));
        StateDict sd = Safetensors.read(p);
        assertEquals(List.copyOf(in.keySet()), List.copyOf(sd.tensors().keySet()));
        assertEquals("x", sd.metadata().get("torch_version"));
        for (String k : in.keySet()) {
            assertEquals(in.get(k).dtype(), sd.tensors().get(k).dtype());
            assertArrayEquals(in.get(k).shape(), sd.tensors().get(k).shape());
            assertEquals(Arrays.toString(in.get(k).toDoubleArray()), Arrays.toString(sd.tensors().get(k).toDoubleArray()), k);
        }
    }

    @Test
    void readsDataStoredOutOfHeaderOrder() {
        // written by PyTorch tooling with the data in reverse order of the header
        StateDict sd = Safetensors.read(Fixture.named("prefix_rnn").model());
        assertTrue(sd.tensors().containsKey("rnn.weight_ih_l0"));
    }

    @Test
    void truncatedFile() throws IOException {
        byte[] all = Files.readAllBytes(Fixture.named("basic_f32").model());
        Path p = tmp.resolve("cut.safetensors");
        Files.write(p, Arrays.copyOf(all, all.length - 10));
        String m = fails(p);
        assertTrue(m.contains("outside the data section") && m.contains("truncated"), m);
    }

    @Test
    void garbageHeader() throws IOException {
        String m = fails(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]", new byte[4]));
        assertTrue(m.contains("not valid JSON"), m);
    }

    @Test
    void headerLengthNear2To63() throws IOException {
        Path p = tmp.resolve("huge.safetensors");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE - 3).putLong(0);
        Files.write(p, b.array());
        String m = fails(p);
        assertTrue(m.contains("header length " + (Long.MAX_VALUE - 3)), m);
    }

    @Test
    void notASafetensorsFile() throws IOException {
        Path p = tmp.resolve("x.safetensors");
        Files.writeString(p, "hello, this is text");
        assertTrue(fails(p).contains("header length"));
        Files.write(p, new byte[3]);
        assertTrue(fails(p).contains("shorter than the 8-byte header length"));
    }

    @Test
    void offsetsPastTheEnd() throws IOException {
        String m = fails(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", new byte[4]));
        assertTrue(m.contains("tensor \"a\"") && m.contains("outside the data section of 4 bytes"), m);
    }

    @Test
    void byteCountMustMatchShape() throws IOException {
        String m = fails(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", new byte[8]));
        assertTrue(m.contains("hold 8 bytes, but shape (3,) of F32 needs 12"), m);
    }

    @Test
    void elementCountOverflow() throws IOException {
        String m = fails(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2147483647, 2147483647, 2147483647], \"data_offsets\": [0, 8]}}",
                new byte[8]));
        assertTrue(m.contains("too many elements") || m.contains("more than one tensor can hold"), m);
    }

    @Test
    void overlappingTensors() throws IOException {
        String m = fails(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                + " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", new byte[12]));
        assertTrue(m.contains("overlap"), m);
    }

    @Test
    void unknownDtype() throws IOException {
        String m = fails(file("{\"a\": {\"dtype\": \"F8_E4M3\", \"shape\": [1], \"data_offsets\": [0, 1]}}", new byte[1]));
        assertTrue(m.contains("unknown dtype \"F8_E4M3\""), m);
    }

    @Test
    void missingFileNamesIt() {
        String m = fails(tmp.resolve("nope.safetensors"));
        assertTrue(m.contains("nope.safetensors") && m.contains("no such file"), m);
    }

    @Test
    void deepJsonIsRefusedNotOverflowed() throws IOException {
        String deep = "[".repeat(100_000);
        String m = fails(file("{\"__metadata__\": " + deep + "}", new byte[0]));
        assertTrue(m.contains("nested deeper"), m);
    }

    @Test
    void metadataMustBeStrings() throws IOException {
        String m = fails(file("{\"__metadata__\": {\"a\": 1}}", new byte[0]));
        assertTrue(m.contains("__metadata__.a must be a string"), m);
    }

    /** As the reference reader (Metadata::validate and the buffer-length check), trailing bytes and gaps are refused. */
    @Test
    void trailingBytesAreRefused() throws IOException {
        String m = fails(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", new byte[5]));
        assertTrue(m.contains("1 bytes after the last tensor") && m.contains("reference reader refuses trailing bytes"), m);
        String empty = fails(file("{}", new byte[3]));
        assertTrue(empty.contains("3 bytes after the last tensor"), empty);
    }

    @Test
    void gapsBetweenTensorsAreRefused() throws IOException {
        String m = fails(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                + " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}", new byte[12]));
        assertTrue(m.contains("bytes [4, 8) of the data section belong to no tensor") && m.contains("between \"a\" and \"b\""), m);
        String first = fails(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", new byte[8]));
        assertTrue(first.contains("the first tensor, \"a\", starts at 4"), first);
    }

    @Test
    void aTensorNamedMetadataIsRefused() throws IOException {
        String m = fails(file("{\"__metadata__\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", new byte[4]));
        assertTrue(m.contains("a tensor is named \"__metadata__\""), m);
    }

    /** A shape under 2^31 elements whose bytes pass 2 GiB is refused by name, not by an int overflow. */
    @Test
    void tensorsOver2GiBAreRefusedClearly() throws IOException {
        String m = fails(file("{\"big\": {\"dtype\": \"F64\", \"shape\": [300000000], \"data_offsets\": [0, 2400000000]}}", new byte[8]));
        assertTrue(m.contains("tensor \"big\"") && m.contains("2400000000 bytes") && m.contains("at most 2 GiB"), m);
    }

    @Test
    void theByteBudgetIsCheckedBeforeReading() throws IOException {
        Path p = file("{\"a\": {\"dtype\": \"F32\", \"shape\": [256], \"data_offsets\": [0, 1024]}}", new byte[1024]);
        assertEquals(256, Safetensors.read(p, 1024).tensors().get("a").elementCount());
        String m = assertThrows(FileFormatException.class, () -> Safetensors.read(p, 1000)).getMessage();
        assertTrue(m.contains("tensor \"a\" expands to 1024 bytes") && m.contains("limit of 1000 bytes (maxBytes)"), m);
    }

    @Test
    void namesAreEscapedInMessages() throws IOException {
        String m = fails(file("{\"evil\\u001b[2J\\nname" + "x".repeat(500) + "\": {\"dtype\": \"F99\", \"shape\": [1], \"data_offsets\": [0, 1]}}",
                new byte[1]));
        assertTrue(m.contains("evil\\x1b[2J\\nname") && m.contains("…") && !m.contains("\u001b") && !m.contains("\n") && m.length() < 400, m);
    }
}
