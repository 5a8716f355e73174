package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.cli.CliProcess.Run;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The machine verbs as separate processes against a real control plane on SQLite (its node a fake agent): machines
 * named by id, prefix or name; several at once, carrying on past a failure; failures as one line.
 */
class MachineCommandsTest {
    @RegisterExtension
    final ClusterCli cli = ClusterCli.asAdminOf("alpha");

    private Run bolero(String verb, String... args) throws IOException, InterruptedException {
        return cli.bolero("", List.of(verb), args);
    }

    @Test
    void aMachineIsNamedByItsIdAUniquePrefixOrItsName() throws Exception {
        String id = cli.cluster().machine();

        for (String ref : List.of(id, id.substring(0, 6), "m1")) {
            Run r = bolero("inspect", ref);
            assertThat(r.exit()).as("inspect %s: %s", ref, r.stderr()).isZero();
            assertThat(r.stdout()).contains("\"id\" : \"" + id + "\"");
        }
        Run missing = bolero("inspect", "nope");
        assertThat(missing.exit()).isEqualTo(3);
        assertThat(missing.stderr().strip()).isEqualTo("bolero: no machine has the id, id prefix or name 'nope'");
    }

    @Test
    void severalMachinesCarryOnPastAFailureAndExitWithIt() throws Exception {
        Run r = bolero("stop", "nope", "m1");

        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.stderr().strip()).isEqualTo("bolero: no machine has the id, id prefix or name 'nope'");
        assertThat(r.stdout()).contains(cli.cluster().machine()).contains("stopped");
    }

    @Test
    void restartStopsAndStartsAMachineAndWaitPrintsTheExitOfAStoppedOne() throws Exception {
        Run restart = bolero("restart", "m1");
        assertThat(restart.exit()).as(restart.stderr()).isZero();
        assertThat(restart.stdout()).contains(cli.cluster().machine()).contains("running");

        assertThat(bolero("stop", "m1").exit()).isZero();
        Run wait = bolero("wait", "m1", "--timeout", "60");
        assertThat(wait.exit()).as(wait.stderr()).isZero();
        assertThat(wait.stdout().strip()).as("a fake node reports no exit code").isEqualTo("-");
        Run missing = bolero("wait", "nope");
        assertThat(missing.exit()).isEqualTo(3);
    }

    @Test
    void psShowsTheNodesNameAgeAndPorts() throws Exception {
        Run r = bolero("ps");
        assertThat(r.stdout().lines().findFirst().orElseThrow()).contains("NODE", "AGE", "PORTS");
        assertThat(r.stdout()).containsPattern(cli.cluster().machine() + ".*\\snode-1\\s+\\d+[smhd]\\s")
                .doesNotContain(cli.cluster().node().id());
        assertThat(ClusterCommands.age(java.time.Duration.ofSeconds(59))).isEqualTo("59s");
        assertThat(ClusterCommands.age(java.time.Duration.ofMinutes(90))).isEqualTo("1h");
        assertThat(ClusterCommands.age(java.time.Duration.ofDays(3))).isEqualTo("3d");
    }

    @Test
    void psFiltersByStateFleetNameNodeAndLabelAndRefusesAnUnknownKey() throws Exception {
        String id = cli.cluster().machine();
        String node = cli.cluster().node().id();
        for (String filter : List.of("name=m", "fleet=web", "node=node-1", "node=" + node.substring(0, 4),
                "id=" + id.substring(0, 3), "state=running")) {
            Run r = bolero("ps", "-q", "--filter", filter);
            assertThat(r.exit()).as("%s: %s", filter, r.stderr()).isZero();
            assertThat(r.stdout().strip()).as(filter).isEqualTo(id);
        }
        for (String filter : List.of("name=nope", "fleet=api", "label=tier", "state=stopped", "node=node-")) {
            Run r = bolero("ps", "-q", "--filter", filter);
            assertThat(r.exit()).as("%s: %s", filter, r.stderr()).isZero();
            assertThat(r.stdout().strip()).as(filter).isEmpty();
        }
        Run either = bolero("ps", "-q", "-f", "state=stopped", "-f", "state=running", "-f", "fleet=web");
        assertThat(either.stdout().strip()).isEqualTo(id);
        Run unknown = bolero("ps", "--filter", "colour=red");
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.stderr()).contains("--filter colour: unknown key");
        Run badState = bolero("ps", "--filter", "state=asleep");
        assertThat(badState.exit()).isEqualTo(2);
        assertThat(badState.stderr()).contains("unknown machine state 'asleep'");
    }

    @Test
    void psShowsAMachineMeantToRunAndQuietPrintsOnlyIds() throws Exception {
        Run r = bolero("ps", "-q");

        assertThat(r.exit()).isZero();
        assertThat(r.stdout().strip()).isEqualTo(cli.cluster().machine());
    }

    @Test
    void psListsASuspendedMachineAndAStoppedOneOnlyWithAllAndAStoppedMachineCannotBeSuspended() throws Exception {
        Run suspend = bolero("suspend", "m1");
        assertThat(suspend.exit()).as(suspend.stderr()).isZero();
        assertThat(suspend.stdout()).contains(cli.cluster().machine()).contains("suspended");
        Run ps = bolero("ps");
        assertThat(ps.stdout()).contains(cli.cluster().machine()).contains("suspended");

        assertThat(bolero("stop", "m1").exit()).isZero();
        assertThat(bolero("wait", "m1", "--timeout", "60").exit()).isZero();
        assertThat(bolero("ps", "-q").stdout()).isEmpty();
        assertThat(bolero("ps", "-a", "-q").stdout().strip()).isEqualTo(cli.cluster().machine());
        Run stopped = bolero("suspend", "m1");
        assertThat(stopped.exit()).as("a conflict").isEqualTo(6);
        assertThat(stopped.stderr()).contains("it is not meant to run (desired stopped)");
    }

    @Test
    void anUnreachableNodeIsOneLineNamingTheUrlAndTheCause() throws Exception {
        int closed;
        try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Run images = CliProcess.bolero(cli.dir(), "", "images", "--node", "http://127.0.0.1:" + closed, "ls");
        Run ps = CliProcess.bolero(cli.dir(), "", "ps", "--server", "http://127.0.0.1:" + closed, "--token", "t");

        assertThat(images.exit()).isEqualTo(1);
        assertThat(images.stderr().strip()).isEqualTo("error: GET http://127.0.0.1:" + closed
                + "/api/v1/images: cannot reach the node: connection refused");
        assertThat(ps.exit()).isEqualTo(5);
        assertThat(ps.stderr().strip()).startsWith("bolero: GET ").endsWith("connection refused")
                .contains("http://127.0.0.1:" + closed).doesNotContain("java.", "Exception");
    }

    @Test
    void updateGivesAMachineANewConfigUnderItsIdAndRefusesAnEmptyOne() throws Exception {
        String id = cli.cluster().machine();
        Run r = bolero("update", "m1", "-e", "COLOR=blue", "--memory", "256");
        assertThat(r.exit()).as(r.stderr()).isZero();
        assertThat(r.stdout()).contains(id);
        Run inspect = bolero("inspect", "m1");
        assertThat(inspect.stdout()).contains("\"COLOR\" : \"blue\"", "\"memory_mb\" : 256", "\"version\" : 2");

        Run empty = bolero("update", "m1");
        assertThat(empty.exit()).isEqualTo(2);
        assertThat(empty.stderr()).contains("nothing to update: give --image or a config flag");
    }

    @Test
    void rmRefusesARunningMachineAndRmFDeletesIt() throws Exception {
        String id = cli.cluster().machine();
        Run refused = bolero("rm", "m1");
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.stderr().strip()).isEqualTo("bolero: machine " + id + " is running: stop it first, or rm -f");
        assertThat(bolero("inspect", "m1").exit()).as("still there").isZero();

        Run forced = bolero("rm", "-f", "m1");
        assertThat(forced.exit()).as(forced.stderr()).isZero();
        assertThat(forced.stdout().strip()).isEqualTo(id);
    }
}
