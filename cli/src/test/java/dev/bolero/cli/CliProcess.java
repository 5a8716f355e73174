package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The CLI in its own JVM, as a user runs it: the test's class path, no {@code BOLERO_*} environment and a config
 * directory of its own, so neither the host's settings nor its {@code ~/.config/bolero} reach it.
 */
final class CliProcess {
    private CliProcess() {}

    record Run(int exit, String stdout, String stderr) {}

    /** The command line that starts the CLI, without arguments. */
    static List<String> javaCommand() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName());
    }

    /** A process builder for {@code command}, its environment cleared of the CLI's settings, configured in {@code dir}. */
    static ProcessBuilder builder(Path dir, List<String> command) {
        var builder = new ProcessBuilder(command);
        builder.environment().keySet().removeIf(k -> k.startsWith("BOLERO_"));
        builder.environment().put("XDG_CONFIG_HOME", dir.resolve("config").toString());
        return builder;
    }

    /** Runs the CLI with {@code args} and {@code stdin} as its input, up to its end (at most 120 s). */
    static Run bolero(Path dir, String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(javaCommand());
        command.addAll(List.of(args));
        return run(dir, stdin, command);
    }

    /** Runs {@code command} with {@code stdin} as its input, up to its end (at most 120 s). */
    static Run run(Path dir, String stdin, List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process p = builder(dir, command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("%s ended; stdout: %s; stderr: %s",
                    String.join(" ", command).replace(System.getProperty("java.class.path"), "CLASSPATH"),
                    Files.readString(out), Files.readString(err)).isTrue();
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            p.destroyForcibly();
        }
    }
}
