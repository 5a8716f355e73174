package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bolero completion fish}, loaded into a real fish. */
class CompletionCommandTest {
    @TempDir
    Path dir;

    @Test
    void fishCompletesVerbsAndEachVerbsOptions() throws Exception {
        var printed = CliProcess.bolero(dir, "", "completion", "fish");
        assertThat(printed.exit()).as(printed.stderr()).isZero();
        String script = printed.stdout();
        assertThat(script).contains("-a ps ", "-a deploy ", "__fish_seen_subcommand_from ps' -s q -l quiet");

        boolean fish = Files.isExecutable(Path.of("/usr/bin/fish"));
        if (!fish) System.out.println("skipping the fish part: /usr/bin/fish is missing (scripts/test.sh installs it)");
        assumeTrue(fish, "no fish");
        Path file = dir.resolve("bolero.fish");
        Files.writeString(file, script);
        assertThat(complete(file, "bolero p")).contains("ps");
        assertThat(complete(file, "bolero ps --qu")).contains("--quiet");
        assertThat(complete(file, "bolero stats -")).contains("--follow");
    }

    /** What fish offers for {@code commandLine} with {@code script} loaded. */
    private static List<String> complete(Path script, String commandLine) throws Exception {
        Process p = new ProcessBuilder("/usr/bin/fish", "--no-config", "-c",
                "source " + script + "; complete -C '" + commandLine + "'").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out.lines().map(l -> l.split("\t")[0]).toList();
    }
}
