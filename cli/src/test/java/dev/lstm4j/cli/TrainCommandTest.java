package dev.lstm4j.cli;

import dev.lstm4j.Lstm4j;
import dev.lstm4j.Lstm4jException;
import dev.lstm4j.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code lstm4j train}, run in-process through picocli (the lead wires it into Main's subcommands). */
class TrainCommandTest {
    /** Runs {@code train} as Main would: Lstm4jException and I/O errors print "lstm4j: error: ..." and exit 1. */
    static Cli train(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new TrainCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler((ex, c, r) -> {
            if (ex instanceof Lstm4jException || ex instanceof java.io.UncheckedIOException) {
                c.getErr().println("lstm4j: error: " + ex.getMessage());
                return Main.EXIT_ERROR;
            }
            throw ex;
        });
        int code = cl.execute(args);
        return new Cli(code, out.toString(), err.toString());
    }

    /** A daily and a weekly season with Gaussian noise: value = 10 + 3 sin(2π t/24) + sin(2π t/168) + 0.3 ε. */
    static Path seasonal(Path dir, long seed, int rows) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        StringBuilder b = new StringBuilder("load\n");
        for (int t = 0; t < rows; t++) {
            double v = 10 + 3 * Math.sin(2 * Math.PI * t / 24) + Math.sin(2 * Math.PI * t / 168) + 0.3 * r.nextGaussian();
            b.append(String.format(Locale.ROOT, "%.6f%n", v));
        }
        Path f = dir.resolve("series.csv");
        Files.writeString(f, b);
        return f;
    }

    static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no match for " + regex + " in\n" + text);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void trainsANpyDatasetWithTbpttAndResumesFromACheckpoint(@TempDir Path dir) {
        SplittableRandom r = new SplittableRandom(3);
        int n = 24, t = 10;
        double[] x = new double[n * t * 2], y = new double[n];
        for (int s = 0; s < n; s++) {
            for (int k = 0; k < t * 2; k++) {
                x[s * t * 2 + k] = r.nextGaussian();
            }
            y[s] = x[s * t * 2 + (t - 1) * 2] + 0.5 * x[s * t * 2 + (t - 2) * 2 + 1];
        }
        Path xf = dir.resolve("x.npy"), yf = dir.resolve("y.npy");
        Lstm4j.writeNpy(xf, Tensor.of(dev.lstm4j.DType.F32, new int[] {n, t, 2}, x));
        Lstm4j.writeNpy(yf, Tensor.of(dev.lstm4j.DType.F32, new int[] {n, 1}, y));
        Path ck = dir.resolve("ck.safetensors");
        String[] base = {"--data", xf.toString(), "--labels", yf.toString(), "--hidden", "5", "--layers", "2", "--dropout", "0.1", "--tbptt", "4",
                "--batch", "8", "--optimizer", "rmsprop", "--lr", "0.01", "--seed", "11", "--val", "0.25"};
        Cli whole = train(concat(base, "--epochs", "4", "--out", dir.resolve("whole.safetensors").toString()));
        assertEquals(0, whole.code(), whole::toString);
        assertEquals(0, train(concat(base, "--epochs", "2", "--checkpoint", ck.toString(), "--out", dir.resolve("half.safetensors").toString())).code());
        Cli resumed = train(concat(base, "--epochs", "4", "--resume", ck.toString(), "--out", dir.resolve("resumed.safetensors").toString()));
        assertEquals(0, resumed.code(), resumed::toString);
        assertTrue(resumed.err().contains("resumed from"), resumed.err());
        try {
            assertArrayEquals(Files.readAllBytes(dir.resolve("whole.safetensors")), Files.readAllBytes(dir.resolve("resumed.safetensors")));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void badOptionsFailWithAClearMessage(@TempDir Path dir) throws IOException {
        Path csv = seasonal(dir, 1, 100);
        Cli r = train("--data", csv.toString(), "--target", "price", "--out", dir.resolve("m.safetensors").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("--target 'price': no such column; the header has [load]"), r.err());
        r = train("--data", csv.toString(), "--optimizer", "adagrad", "--out", dir.resolve("m.safetensors").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("--optimizer must be adam, adamw, sgd or rmsprop, got 'adagrad'"), r.err());
        r = train("--data", csv.toString(), "--window", "90", "--horizon", "20", "--out", dir.resolve("m.safetensors").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("100 rows make 0 windows"), r.err());
    }
}
