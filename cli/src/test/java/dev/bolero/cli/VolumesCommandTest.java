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

/** {@code bolero volumes} as a separate process against a real control plane on SQLite. */
class VolumesCommandTest {
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

    private Run bolero(String... args) throws Exception {
        var all = new ArrayList<>(List.of("volumes", "--server", "http://127.0.0.1:" + cluster.port(), "--token",
                OneNodeCluster.ADMIN, "-n", "alpha"));
        all.addAll(List.of(args));
        return CliProcess.bolero(dir, "", all.toArray(String[]::new));
    }

    @Test
    void createListExtendAndRemoveAVolume() throws Exception {
        Run created = bolero("create", "data", "--size-gb", "1", "--region", "eu");
        assertThat(created.exit()).as(created.stderr()).isZero();
        assertThat(created.stdout()).contains("data", "vol_", "eu");
        Run extended = bolero("extend", "data", "--size-gb", "4");
        assertThat(extended.exit()).as(extended.stderr()).isZero();
        assertThat(bolero("ls").stdout()).contains("data").contains(" 4 ");
        Run shrunk = bolero("extend", "data", "--size-gb", "2");
        assertThat(shrunk.exit()).isNotZero();
        assertThat(shrunk.stderr()).contains("a volume only grows, it has 4 GiB");
        Run snapshot = bolero("snapshot", "data");
        assertThat(snapshot.exit()).as("a volume no machine mounted holds nothing").isNotZero();
        assertThat(snapshot.stderr()).contains("it lives on no node yet");
        assertThat(bolero("snapshots", "data").exit()).isZero();
        assertThat(bolero("rm", "data").exit()).isZero();
        Run missing = bolero("rm", "data");
        assertThat(missing.exit()).isEqualTo(3);
        assertThat(missing.stderr()).contains("no such volume");
    }
}
