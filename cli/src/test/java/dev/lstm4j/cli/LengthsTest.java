package dev.lstm4j.cli;

import dev.lstm4j.Tensor;
import dev.lstm4j.Tolerance;
import dev.lstm4j.internal.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LengthsTest {
    @TempDir
    Path tmp;

    @Test
    void commaListsAndNpy() {
        assertArrayEquals(new int[] {5, 2, 4}, Lengths.parse("5,2,4"));
        assertArrayEquals(new int[] {5, 2, 4}, Lengths.parse(" 5, 2 ,4 ,"));
        assertArrayEquals(new int[] {3}, Lengths.parse("3"));
        assertNull(Lengths.parse(null));
        assertArrayEquals(new int[] {6, 2, 4, 1}, Lengths.parse(TraceCommandTest.fixture("packed_basic").resolve("lengths.npy").toString()));
    }

    @Test
    void runWithLengthsMatchesPytorchPackedSequence() throws Exception {
        Path dir = TraceCommandTest.fixture("packed_layers2_bidir_proj_state");
        Path out = tmp.resolve("out");
        Cli r = Cli.run("run", "--weights", dir.resolve("model.safetensors").toString(), "--input", dir.resolve("input.npy").toString(),
                "--h0", dir.resolve("h0.npy").toString(), "--c0", dir.resolve("c0.npy").toString(), "--lengths",
                dir.resolve("lengths.npy").toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.toString());
        for (String name : new String[] {"output", "h_n", "c_n", "head"}) {
            Tolerance.Report rep = Tolerance.F32.check(name, Npy.read(dir.resolve(name + ".npy")), Npy.read(out.resolve(name + ".npy")));
            assertTrue(rep.ok(), rep.toString());
        }
    }

    @Test
    void badLengthsAreOneLineErrors() throws Exception {
        Path dir = TraceCommandTest.fixture("packed_basic");
        String w = dir.resolve("model.safetensors").toString(), x = dir.resolve("input.npy").toString(), o = tmp.toString();
        assertEquals("lstm4j: error: lengths: expected one length per sequence, 4 for batch B = 4, got 3",
                Cli.run("run", "--weights", w, "--input", x, "--lengths", "6,2,4", "--out", o).err().strip());
        assertEquals("lstm4j: error: lengths[1] = 0: each length must be in 1..6 (T, the input's time steps); drop empty sequences from the batch",
                Cli.run("run", "--weights", w, "--input", x, "--lengths", "6,0,4,1", "--out", o).err().strip());
        assertEquals("lstm4j: error: lengths[0] = 9: each length must be in 1..6 (T, the input's time steps); pad the input to the longest sequence",
                Cli.run("trace", "--weights", w, "--input", x, "--lengths", "9,1,1,1").err().strip());
        assertEquals("lstm4j: error: --lengths: '6,two' is neither a comma list of whole numbers (e.g. 5,2,4) nor an existing .npy file",
                Cli.run("run", "--weights", w, "--input", x, "--lengths", "6,two", "--out", o).err().strip());
        Path f = tmp.resolve("len.npy");
        Npy.write(f, Tensor.of(dev.lstm4j.DType.F32, new int[] {4}, new double[] {6, 2.5, 4, 1}));
        assertEquals("lstm4j: error: --lengths " + f + ": element 1 is 2.5, not a whole number",
                Cli.run("run", "--weights", w, "--input", x, "--lengths", f.toString(), "--out", o).err().strip());
        Npy.write(f, Tensor.of(dev.lstm4j.DType.F32, new int[] {2, 2}, new double[] {6, 2, 4, 1}));
        assertEquals("lstm4j: error: --lengths " + f + ": expected a 1-D array (B,), one length per batch row, got shape (2, 2)",
                Cli.run("run", "--weights", w, "--input", x, "--lengths", f.toString(), "--out", o).err().strip());
    }
}
