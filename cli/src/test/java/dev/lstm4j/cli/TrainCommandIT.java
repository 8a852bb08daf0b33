package dev.lstm4j.cli;

import dev.lstm4j.Lstm4j;
import dev.lstm4j.LstmModel;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.lstm4j.cli.TrainCommandTest.number;
import static dev.lstm4j.cli.TrainCommandTest.seasonal;
import static dev.lstm4j.cli.TrainCommandTest.train;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14's done-when run of {@code lstm4j train}: a seasonal series with noise, trained twice (about half a minute of
 * CPU), so it runs in {@code verify} (failsafe) rather than with the unit tests.
 */
class TrainCommandIT {
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

}
