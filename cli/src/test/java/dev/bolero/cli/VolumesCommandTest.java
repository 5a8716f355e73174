package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.cli.CliProcess.Run;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code bolero volumes} as a separate process against a real control plane on SQLite. */
class VolumesCommandTest {
    @RegisterExtension
    final ClusterCli cli = ClusterCli.asAdminOf("alpha");

    private Run bolero(String... args) throws Exception {
        return cli.bolero("", List.of("volumes"), args);
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
        Run move = bolero("move", "data");
        assertThat(move.exit()).as("a volume no machine mounted has no node to leave").isNotZero();
        assertThat(move.stderr()).contains("move volume alpha/data", "it lives on no node yet");
        Run moves = bolero("moves", "data");
        assertThat(moves.exit()).as(moves.stderr()).isZero();
        assertThat(moves.stdout()).contains("ID", "FROM", "TO", "STATE");
        assertThat(bolero("rm", "data").exit()).isZero();
        Run missing = bolero("rm", "data");
        assertThat(missing.exit()).isEqualTo(3);
        assertThat(missing.stderr()).contains("no such volume");
    }
}
