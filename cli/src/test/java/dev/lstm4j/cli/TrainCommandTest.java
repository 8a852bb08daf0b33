package dev.lstm4j.cli;

import dev.lstm4j.Lstm4j;
import dev.lstm4j.Lstm4jException;
import dev.lstm4j.LstmModel;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
    void trainsASeasonalSeriesBelowThePersistenceBaselineAndTheModelRuns(@TempDir Path dir) throws IOException {
        long seed = 0x5ea5L;
        System.out.println("seed " + seed);
        Path csv = seasonal(dir, seed, 600);
        Path model = dir.resolve("model.safetensors"), plot = dir.resolve("loss.html");
        String[] args = {"--data", csv.toString(), "--target", "load", "--window", "24", "--hidden", "16", "--epochs", "8", "--batch", "32",
                "--lr", "0.01", "--clip", "1", "--seed", "7", "--val", "0.2", "--patience", "3", "--out", model.toString(), "--plot", plot.toString()};
        Cli r = train(args);
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.err().contains("epoch   1/8") && r.err().contains("eta"), r.err());
        double valMse = number(r.out(), "validation MSE ([0-9.eE+-]+)");
        double persistence = number(r.out(), "persistence baseline \\(next value = last value\\) MSE ([0-9.eE+-]+)");
        System.out.println("validation MSE " + valMse + ", persistence " + persistence);
        assertTrue(valMse < persistence, r.toString());

        // PyTorch's key names, loadable and runnable
        StateDict sd = Lstm4j.readWeights(model);
        assertEquals(List.of("lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0", "fc.weight", "fc.bias"),
                List.copyOf(sd.tensors().keySet()));
        LstmModel m = Lstm4j.load(model);
        assertEquals(1, m.head().outFeatures());
        Path window = dir.resolve("window.csv");
        List<String> lines = Files.readAllLines(csv);
        Files.write(window, lines.subList(lines.size() - 24, lines.size()));
        Cli run = Cli.run("run", "--weights", model.toString(), "--input", window.toString(), "--out", dir.resolve("results").toString());
        assertEquals(0, run.code(), run::toString);
        Tensor head = Lstm4j.readNpy(dir.resolve("results").resolve("head.npy"));
        double next = head.get(23, 0);
        assertTrue(next > 5 && next < 15, "a forecast in the series' range (raw units), got " + next);

        String html = Files.readString(plot);
        assertTrue(html.startsWith("<!DOCTYPE html>") && html.contains("<svg") && html.contains("<polyline") && !html.contains("<script"), html);

        // same seed, same model, bit for bit
        Path again = dir.resolve("again.safetensors");
        args[args.length - 3] = again.toString();
        assertEquals(0, train(args).code());
        assertArrayEquals(Files.readAllBytes(model), Files.readAllBytes(again));
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
