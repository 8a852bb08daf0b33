package dev.lstm4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** The CLI as a separate JVM on the test class path, for what needs a real process: signals, pipes, kills. */
final class Child {
    private Child() {
    }

    static ProcessBuilder builder(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--add-modules"); // as bin/lstm4j runs it
        cmd.add("jdk.incubator.vector");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dev.lstm4j.cli.Main");
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd);
    }

    static Process start(String... args) throws IOException {
        return builder(args).start();
    }

    /** stderr without the JVM's notice for the incubator module (bin/lstm4j filters it), which is not the command's output. */
    static String errors(String stderr) {
        return stderr.lines().filter(l -> !l.equals("WARNING: Using incubator modules: jdk.incubator.vector")).collect(Collectors.joining("\n"));
    }
}
