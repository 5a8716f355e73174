package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.cli.CliProcess.Run;
import dev.bolero.server.OneNodeCluster;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bolero secrets} as a separate process against a real control plane on SQLite. */
class SecretsCommandTest {
    @TempDir
    Path dir;

    private OneNodeCluster cluster;

    @BeforeEach
    void start() {
        cluster = OneNodeCluster.start(dir.resolve("server"));
    }

    @AfterEach
    void stop() throws InterruptedException {
        cluster.close();
    }

    private Run bolero(String stdin, String... args) throws Exception {
        var all = new ArrayList<>(List.of("secrets", "--server", "http://127.0.0.1:" + cluster.port(), "--token",
                OneNodeCluster.ADMIN, "-n", "alpha"));
        all.addAll(List.of(args));
        return CliProcess.bolero(dir, stdin, all.toArray(String[]::new));
    }

    @Test
    void setReadsTheValueFromStandardInputAndNothingEverPrintsIt() throws Exception {
        Run set = bolero("pa55-from-stdin\n", "set", "DB_PASSWORD");
        Run again = bolero("", "set", "DB_PASSWORD", "--value", "pa55-from-flag");
        Run ls = bolero("", "ls");

        assertThat(set.exit()).as(set.stderr()).isZero();
        assertThat(set.stdout()).contains("DB_PASSWORD", "hmac-sha256:").doesNotContain("pa55");
        assertThat(again.stdout()).contains("DB_PASSWORD").doesNotContain("pa55");
        assertThat(ls.stdout()).contains("DB_PASSWORD").contains(" 2 ").doesNotContain("pa55");
        assertThat(bolero("", "rm", "DB_PASSWORD").exit()).isZero();
        Run missing = bolero("", "rm", "DB_PASSWORD");
        assertThat(missing.exit()).isEqualTo(3);
        assertThat(missing.stderr()).contains("no such secret");
    }
}
