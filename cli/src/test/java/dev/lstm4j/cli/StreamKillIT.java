package dev.lstm4j.cli;

import dev.lstm4j.Lstm;
import dev.lstm4j.LstmSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** {@code lstm4j stream --save-state} as a separate process, killed at random moments and stopped with SIGTERM. */
class StreamKillIT {
    @TempDir
    Path tmp;

    /** A process that writes keyed lines to the child's stdin until it dies, and one that counts the answers. */
    private static final class Feed implements AutoCloseable {
        final Process p;
        final AtomicLong answers = new AtomicLong();
        final Path err;

        Feed(Process p, Path err, long seed) {
            this.p = p;
            this.err = err;
            Thread writer, reader;
            writer = new Thread(() -> {
                SplittableRandom r = new SplittableRandom(seed);
                try (OutputStream in = p.getOutputStream()) {
                    while (true) {
                        String line = "k" + r.nextInt(3) + "," + (float) r.nextDouble(-1, 1) + "," + (float) r.nextDouble(-1, 1) + "\n";
                        in.write(line.getBytes(StandardCharsets.UTF_8));
                        in.flush();
                    }
                } catch (IOException closed) {
                    // the child died
                }
            });
            reader = new Thread(() -> {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    while (out.readLine() != null) {
                        answers.incrementAndGet();
                    }
                } catch (IOException closed) {
                    // the child died
                }
            });
            writer.setDaemon(true);
            reader.setDaemon(true);
            writer.start();
            reader.start();
        }

        String stderr() throws IOException {
            return Files.readString(err);
        }

        /** Kills the child; the feeding threads are daemons and end on the broken pipes. */
        @Override
        public void close() throws InterruptedException {
            p.destroyForcibly();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the killed child did not end");
        }
    }

    private static long totalSteps(Lstm lstm, Path state) throws IOException {
        LstmSession s = LstmSession.restore(lstm, Files.readAllBytes(state));
        long n = 0;
        for (String k : s.keys()) {
            n += s.steps(k);
        }
        return n;
    }

    /**
     * SIGKILL at a random moment, 20 times, each run continuing from the state the last one left: the state file is
     * always absent or complete (it restores), never goes back, and holds every step answered before the last
     * checkpoint.
     */
    @Test
    void killedAtAnyMomentTheStateFileIsAbsentOrWhole() throws Exception {
        long seed = new SplittableRandom().nextLong();
        System.out.println("StreamKillIT seed " + seed);
        SplittableRandom r = new SplittableRandom(seed);
        try (DemoFiles demo = new DemoFiles()) {
            String w = demo.resolve("model.safetensors").toString();
            Lstm lstm = StreamCommandTest.load(w).lstm();
            Path state = tmp.resolve("state.bin");
            long before = 0;
            int exists = 0;
            for (int it = 0; it < 20; it++) {
                int every = r.nextBoolean() ? 1 : 1 + r.nextInt(5);
                String msg = "seed " + seed + ", iteration " + it + ", --checkpoint-every " + every;
                ProcessBuilder b = Files.exists(state)
                        ? Child.builder("stream", "--weights", w, "--keyed", "--load-state", state.toString(), "--save-state", state.toString(),
                        "--checkpoint-every", String.valueOf(every))
                        : Child.builder("stream", "--weights", w, "--keyed", "--save-state", state.toString(), "--checkpoint-every", String.valueOf(every));
                Path err = tmp.resolve("err-" + it + ".txt");
                Process p = b.redirectError(err.toFile()).start();
                long seen;
                try (Feed feed = new Feed(p, err, r.nextLong())) {
                    if (r.nextInt(5) > 0) {
                        // mostly while it streams: after the first answer, then a random while
                        long deadline = System.nanoTime() + 60_000_000_000L;
                        while (feed.answers.get() == 0 && p.isAlive() && System.nanoTime() < deadline) {
                            Thread.sleep(1);
                        }
                        assertTrue(p.isAlive(), msg + ": the stream died by itself: " + feed.stderr());
                    }
                    Thread.sleep(r.nextInt(400));
                    seen = feed.answers.get();
                    p.destroyForcibly();
                }
                if (Files.exists(state)) {
                    exists++;
                    long total;
                    try {
                        total = totalSteps(lstm, state);
                    } catch (RuntimeException e) {
                        fail(msg + ": the state file does not restore: " + e.getMessage(), e);
                        return;
                    }
                    assertTrue(total >= before, msg + ": state went back from " + before + " to " + total + " steps");
                    assertTrue(total >= before + seen - every, msg + ": " + seen + " answers seen, but the state holds " + (total - before) + " new steps");
                    before = total;
                } else {
                    assertEquals(0, before, msg + ": the state file vanished");
                    assertTrue(seen < 1 + every, msg + ": " + seen + " answers and no checkpoint");
                }
                System.out.println("  " + msg + ": killed after " + seen + " answers; state holds " + before + " steps");
            }
            assertTrue(exists > 0, "seed " + seed + ": no run ever saved a state");
        }
    }

    /** SIGTERM (what Process.destroy sends) while the stream waits for input: the shutdown hook saves every answered step. */
    @Test
    void sigtermSavesTheState() throws Exception {
        try (DemoFiles demo = new DemoFiles()) {
            String w = demo.resolve("model.safetensors").toString();
            Path state = tmp.resolve("state.bin");
            Path errFile = tmp.resolve("err.txt");
            Process p = Child.builder("stream", "--weights", w, "--keyed", "--save-state", state.toString()).redirectError(errFile.toFile()).start();
            try (OutputStream in = p.getOutputStream();
                 BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String[] lines = {"a,1,1", "b,1,1", "a,2,2", "a,3,3", "b,2,2"};
                for (String line : lines) {
                    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                    in.flush();
                    assertTrue(out.readLine() != null, "no answer to " + line);
                }
                assertTrue(!Files.exists(state), "saved before the end without --checkpoint-every");
                Thread.sleep(200); // SIGTERM while the stream waits in readLine, not while the JVM starts its signal handling
                p.destroy(); // SIGTERM; stdin stays open
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the stream did not stop on SIGTERM");
            } finally {
                p.destroyForcibly();
            }
            String err = Child.errors(Files.readString(errFile));
            assertEquals("", err);
            assertEquals(143, p.exitValue(), "exit code of a JVM ended by SIGTERM");
            LstmSession s = LstmSession.restore(StreamCommandTest.load(w).lstm(), Files.readAllBytes(state));
            assertEquals(3, s.steps("a"));
            assertEquals(2, s.steps("b"));
        }
    }

    /** The reader of stdout leaves: the stream saves its state and ends quietly with 141. */
    @Test
    void closedStdoutSavesAndEndsQuietly() throws Exception {
        try (DemoFiles demo = new DemoFiles()) {
            String w = demo.resolve("model.safetensors").toString();
            Path state = tmp.resolve("state.bin");
            Path errFile = tmp.resolve("err.txt");
            Process p = Child.builder("stream", "--weights", w, "--keyed", "--save-state", state.toString()).redirectError(errFile.toFile()).start();
            try {
                OutputStream in = p.getOutputStream();
                BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                for (String line : new String[] {"a,1,1", "a,2,2", "b,1,1"}) {
                    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                    in.flush();
                    assertTrue(out.readLine() != null, "no answer to " + line);
                }
                out.close();
                in.write("a,3,3\n".getBytes(StandardCharsets.UTF_8));
                in.flush();
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the stream kept running after its reader left");
            } finally {
                p.destroyForcibly();
            }
            assertEquals(Main.EXIT_PIPE_CLOSED, p.exitValue());
            assertEquals("", Child.errors(Files.readString(errFile)));
            LstmSession s = LstmSession.restore(StreamCommandTest.load(w).lstm(), Files.readAllBytes(state));
            assertTrue(s.steps("a") >= 2 && s.steps("b") == 1, "a " + s.steps("a") + ", b " + s.steps("b"));
        }
    }
}
