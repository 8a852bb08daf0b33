package dev.lstm4j.internal.io;

import dev.lstm4j.DType;
import dev.lstm4j.FileFormatException;
import dev.lstm4j.InputException;
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
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyCsvTest {
    @TempDir
    Path tmp;

    @Test
    void npyRoundTrip() {
        for (DType d : new DType[] {DType.F32, DType.F64}) {
            Tensor t = Tensor.of(d, new int[] {2, 1, 3}, new double[] {1, 2.5, -3, Double.NaN, 1e-7, 7});
            Path p = tmp.resolve("a.npy");
            Npy.write(p, t);
            Tensor back = Npy.read(p);
            assertEquals(d, back.dtype());
            assertArrayEquals(t.shape(), back.shape());
            assertEquals(Arrays.toString(t.toDoubleArray()), Arrays.toString(back.toDoubleArray()));
        }
    }

    /** A hand-made header: 'fortran_order': True means column-major data, big-endian '>f8' honoured. */
    @Test
    void npyFortranOrderAndBigEndian() throws IOException {
        String dict = "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }";
        String header = dict + " ".repeat(128 - 10 - dict.length() - 1) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + 6 * 8);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        b.order(ByteOrder.LITTLE_ENDIAN).putShort((short) header.length()).order(ByteOrder.BIG_ENDIAN);
        b.put(header.getBytes(StandardCharsets.ISO_8859_1));
        for (double v : new double[] {0, 3, 1, 4, 2, 5}) { // column-major storage of [[0,1,2],[3,4,5]]
            b.putDouble(v);
        }
        Path p = tmp.resolve("f.npy");
        Files.write(p, b.array());
        assertEquals("[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]", Arrays.toString(Npy.read(p).toDoubleArray()));
    }

    /** A version 1.0 .npy with this header dict and {@code data}. */
    private Path npy(String dict, byte[] data) throws IOException {
        String header = dict + " ".repeat(Math.max(0, 128 - 10 - dict.length() - 1)) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length());
        b.put(header.getBytes(StandardCharsets.ISO_8859_1)).put(data);
        Path p = tmp.resolve("h.npy");
        Files.write(p, b.array());
        return p;
    }

    /**
     * NumPy reads the header with ast.literal_eval, so of two equal keys the last wins; a regex takes the
     * first. lstm4j refuses the ambiguity, and keys NumPy refuses.
     */
    @Test
    void npyHeadersAreReadAsNumPyReadsThemOrRefused() throws IOException {
        String dup = assertThrows(FileFormatException.class, () -> Npy.read(npy(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (2,), }", new byte[8]))).getMessage();
        assertTrue(dup.contains("has the key 'shape' twice"), dup);
        String dupDescr = assertThrows(FileFormatException.class, () -> Npy.read(npy(
                "{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", new byte[8]))).getMessage();
        assertTrue(dupDescr.contains("has the key 'descr' twice"), dupDescr);
        String extra = assertThrows(FileFormatException.class, () -> Npy.read(npy(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", new byte[8]))).getMessage();
        assertTrue(extra.contains("not a string, True, False or a shape tuple") || extra.contains("exactly the keys"), extra);
        String notTuple = assertThrows(FileFormatException.class, () -> Npy.read(npy(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", new byte[8]))).getMessage();
        assertTrue(notTuple.contains("not a tuple"), notTuple);
        String hidden = assertThrows(FileFormatException.class, () -> Npy.read(npy(
                "{'descr': \"'shape': (9,)\", 'fortran_order': False, 'shape': (2,)}", new byte[8]))).getMessage();
        assertTrue(hidden.contains("array dtype") && hidden.contains("not supported"), hidden);
        // what NumPy writes, in any key order, with double quotes and Python 2 longs
        assertEquals(2, Npy.read(npy("{\"shape\": (2L,), 'fortran_order': False, 'descr': '<f4'}", new byte[8])).elementCount());
    }

    @Test
    void npyErrors() throws IOException {
        Path p = tmp.resolve("bad.npy");
        Files.writeString(p, "not numpy at all");
        assertTrue(assertThrows(FileFormatException.class, () -> Npy.read(p)).getMessage().contains("magic"));
        Npy.write(p, Tensor.zeros(DType.F32, 4, 4));
        byte[] all = Files.readAllBytes(p);
        Files.write(p, Arrays.copyOf(all, all.length - 4));
        String m = assertThrows(FileFormatException.class, () -> Npy.read(p)).getMessage();
        assertTrue(m.contains("needs 64 bytes") && m.contains("truncated"), m);
        String intHeader = new String(all, 0, 128, StandardCharsets.ISO_8859_1).replace("<f4", "<c8");
        byte[] ints = Arrays.copyOf(all, all.length);
        System.arraycopy(intHeader.getBytes(StandardCharsets.ISO_8859_1), 0, ints, 0, 128);
        Files.write(p, ints);
        m = assertThrows(FileFormatException.class, () -> Npy.read(p)).getMessage();
        assertTrue(m.contains("'<c8' is not supported") && m.contains("astype"), m);
    }

    @Test
    void csvWithHeaderNanAndRoundTrip() throws IOException {
        Path p = tmp.resolve("x.csv");
        Files.writeString(p, "a, b\n1,2\n3.5,nan\n-1e-3,4\n\n");
        Csv.Table t = Csv.read(p, DType.F64);
        assertEquals(List.of("a", "b"), t.header());
        assertArrayEquals(new int[] {3, 2}, t.values().shape());
        assertTrue(Double.isNaN(t.values().get(1, 1)));
        Path out = tmp.resolve("y.csv");
        Csv.write(out, t.values(), null);
        Csv.Table back = Csv.read(out, DType.F64);
        assertNull(back.header());
        assertEquals(Arrays.toString(t.values().toDoubleArray()), Arrays.toString(back.values().toDoubleArray()));
    }

    @Test
    void csvErrorsNameLineAndColumn() throws IOException {
        Path p = tmp.resolve("x.csv");
        Files.writeString(p, "1,2\n3,x\n");
        String m = assertThrows(FileFormatException.class, () -> Csv.read(p, DType.F32)).getMessage();
        assertTrue(m.contains("line 2, column 2: 'x' is not a number"), m);
        Files.writeString(p, "1,2\n3\n");
        m = assertThrows(FileFormatException.class, () -> Csv.read(p, DType.F32)).getMessage();
        assertTrue(m.contains("line 2: 1 columns, but earlier rows have 2"), m);
        Files.writeString(p, "a,b\n");
        m = assertThrows(FileFormatException.class, () -> Csv.read(p, DType.F32)).getMessage();
        assertTrue(m.contains("no data rows"), m);
        Files.writeString(p, "a,1\n3,4\n"); // a row with a number in it is data, not a header
        m = assertThrows(FileFormatException.class, () -> Csv.read(p, DType.F32)).getMessage();
        assertTrue(m.contains("line 1, column 1: 'a' is not a number") && m.contains("a header holds only names"), m);
        Files.writeString(p, "1,2\n1d,4\n"); // Java's parser would take "1d"; we do not
        m = assertThrows(FileFormatException.class, () -> Csv.read(p, DType.F32)).getMessage();
        assertTrue(m.contains("line 2, column 1: '1d' is not a number"), m);
    }

    @Test
    void csvSkipsBlankLinesAnywhere() throws IOException {
        Path p = tmp.resolve("x.csv");
        Files.writeString(p, "\n a , b \n\n1,2\n   \n3,4\n\n");
        Csv.Table t = Csv.read(p, DType.F64);
        assertEquals(List.of("a", "b"), t.header());
        assertEquals("[1.0, 2.0, 3.0, 4.0]", Arrays.toString(t.values().toDoubleArray()));
    }

    @Test
    void csvColumnsByNameNumberAndRange() throws IOException {
        Path p = tmp.resolve("x.csv");
        Files.writeString(p, "date,value,other,last\n2024-01-01,1.5,7,8\n2024-01-02,2.5,9,10\n");
        Csv.Table t = Csv.read(p, DType.F64, "value");
        assertEquals(List.of("value"), t.header());
        assertArrayEquals(new int[] {2, 1}, t.values().shape());
        assertEquals("[1.5, 2.5]", Arrays.toString(t.values().toDoubleArray()));
        t = Csv.read(p, DType.F64, "2..4");
        assertEquals(List.of("value", "other", "last"), t.header());
        assertEquals("[1.5, 7.0, 8.0, 2.5, 9.0, 10.0]", Arrays.toString(t.values().toDoubleArray()));
        t = Csv.read(p, DType.F64, "last, 2");
        assertEquals(List.of("last", "value"), t.header());
        assertEquals("[8.0, 1.5, 10.0, 2.5]", Arrays.toString(t.values().toDoubleArray()));
        // every column: the dates are not numbers
        String m = assertThrows(FileFormatException.class, () -> Csv.read(p, DType.F64)).getMessage();
        assertTrue(m.contains("line 2, column 1: '2024-01-01' is not a number"), m);
        m = assertThrows(InputException.class, () -> Csv.read(p, DType.F64, "valu")).getMessage();
        assertTrue(m.contains("no column named 'valu'; the header has date, value, other, last"), m);
        m = assertThrows(InputException.class, () -> Csv.read(p, DType.F64, "0")).getMessage();
        assertTrue(m.contains("has columns 1..4 (numbered from 1)"), m);
        m = assertThrows(InputException.class, () -> Csv.read(p, DType.F64, "3..2")).getMessage();
        assertTrue(m.contains("an empty range"), m);
        Files.writeString(p, "1,2,3\n4,5,6\n");
        t = Csv.read(p, DType.F64, "3,1");
        assertNull(t.header());
        assertEquals("[3.0, 1.0, 6.0, 4.0]", Arrays.toString(t.values().toDoubleArray()));
        m = assertThrows(InputException.class, () -> Csv.read(p, DType.F64, "value")).getMessage();
        assertTrue(m.contains("the file has no header row, so choose columns by 1-based number (1..3)"), m);
    }
}
