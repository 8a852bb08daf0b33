package dev.lstm4j.cli;

import dev.lstm4j.Tensor;
import dev.lstm4j.Tolerance;
import dev.lstm4j.internal.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code lstm4j run}: CSV columns and blank lines, and results already in --out. */
class RunCommandTest {
    @TempDir
    Path tmp;

    /** The article's series [[1,1],[2,2],[3,3]] beside a date column, with blank lines: --columns picks the features. */
    @Test
    void columnsPickTheFeaturesOfADatedCsv() throws Exception {
        try (DemoFiles demo = new DemoFiles()) {
            String w = demo.resolve("model.safetensors").toString();
            Path csv = tmp.resolve("series.csv");
            Files.writeString(csv, "date,a,b,note\n\n2024-01-01,1,1,x\n2024-01-02,2,2,y\n\n2024-01-03,3,3,z\n\n");
            Tensor expected = Npy.read(demo.resolve("head.npy"));
            for (String columns : new String[] {"a,b", "2..3", "2,b"}) {
                Path out = tmp.resolve("out-" + columns.replace('.', '_').replace(',', '_'));
                Cli r = Cli.run("run", "--weights", w, "--input", csv.toString(), "--columns", columns, "--out", out.toString());
                assertEquals(0, r.code(), columns + ": " + r);
                Tensor head = Npy.read(out.resolve("head.npy"));
                assertEquals(3, head.elementCount());
                for (int t = 0; t < 3; t++) {
                    assertTrue(Tolerance.F32.accepts(expected.at(t), head.at(t)), columns + " step " + t + ": " + expected.at(t) + " vs " + head.at(t));
                }
            }
            Cli r = Cli.run("run", "--weights", w, "--input", csv.toString(), "--out", tmp.resolve("o").toString());
            assertEquals(1, r.code(), r.toString());
            assertTrue(r.err().contains("line 3, column 1: '2024-01-01' is not a number"), r.err());
            r = Cli.run("run", "--weights", w, "--input", csv.toString(), "--columns", "a,c", "--out", tmp.resolve("o").toString());
            assertEquals(1, r.code(), r.toString());
            assertTrue(r.err().contains("no column named 'c'; the header has date, a, b, note"), r.err());
            r = Cli.run("run", "--weights", w, "--input", demo.resolve("input.npy").toString(), "--columns", "1", "--out", tmp.resolve("o").toString());
            assertEquals(1, r.code(), r.toString());
            assertTrue(r.err().contains("--columns picks columns of a CSV"), r.err());
        }
    }

    @Test
    void resultsAlreadyInOutAreRefusedWithoutForce() throws Exception {
        try (DemoFiles demo = new DemoFiles()) {
            String w = demo.resolve("model.safetensors").toString();
            Path csv = tmp.resolve("series.csv");
            Files.writeString(csv, "1,1\n2,2\n3,3\n");
            Path out = tmp.resolve("results");
            Cli r = Cli.run("run", "--weights", w, "--input", csv.toString(), "--out", out.toString());
            assertEquals(0, r.code(), r.toString());
            assertTrue(Files.exists(out.resolve("head.csv")));
            byte[] before = Files.readAllBytes(out.resolve("output.npy"));
            r = Cli.run("run", "--weights", w, "--input", demo.resolve("input.npy").toString(), "--out", out.toString());
            assertEquals(1, r.code(), r.toString());
            assertEquals("lstm4j: error: --out " + out + " already holds results of an earlier run (output.npy, h_n.npy, c_n.npy, head.npy, y.npy, "
                    + "output.csv, h_n.csv, c_n.csv, head.csv, y.csv); pass --force to replace them, or choose another directory", r.err().strip());
            assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(out.resolve("output.npy"))), "refused, yet output.npy changed");
            r = Cli.run("run", "--weights", w, "--input", demo.resolve("input.npy").toString(), "--out", out.toString(), "--force");
            assertEquals(0, r.code(), r.toString());
            // the .npy input writes no CSV copies: the earlier run's CSVs would now be stale, so they are gone
            assertFalse(Files.exists(out.resolve("head.csv")) || Files.exists(out.resolve("output.csv")));
            assertTrue(Files.exists(out.resolve("head.npy")));
            Files.writeString(tmp.resolve("file"), "x");
            r = Cli.run("run", "--weights", w, "--input", csv.toString(), "--out", tmp.resolve("file").toString());
            assertEquals(1, r.code(), r.toString());
            assertTrue(r.err().contains("is a file; give a directory"), r.err());
        }
    }
}
