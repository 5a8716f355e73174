package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.api.wire.ClusterMachine;
import dev.bolero.cli.CliProcess.Run;
import dev.bolero.client.BoleroClient;
import dev.bolero.core.MachineState;
import dev.bolero.server.OneNodeCluster;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code bolero deploy -c bolero.toml} as a separate process against a real control plane on SQLite, whose one node
 * (a {@link dev.bolero.server.FakeAgent}) runs whatever it is assigned: the fleet is created, then deployed.
 */
class DeployManifestCommandTest {
    @RegisterExtension
    final ClusterCli cli = ClusterCli.asAdminOf("beta");

    private BoleroClient client() {
        return new BoleroClient(URI.create(cli.url()), OneNodeCluster.ADMIN);
    }

    private Run bolero(String... args) throws Exception {
        return cli.bolero("", List.of("deploy"), args);
    }

    private Path manifest(String image, int count) throws Exception {
        return Files.writeString(cli.dir().resolve("bolero.toml"), """
                name = "app"
                count = %d

                [config]
                image = "%s"
                guest = { cpus = 1, memory_mb = 256 }
                env = { MODE = "test" }

                [deploy]
                strategy = "rolling"
                max_unavailable = 1
                wait_timeout_s = 60
                """.formatted(count, image));
    }

    private List<ClusterMachine> machines() {
        return client().machines("beta", "app", Set.of());
    }

    @Test
    void aManifestCreatesTheFleetThenEachChangeIsADeploymentPrintedStepByStep() throws Exception {
        Run created = bolero("-c", manifest("busybox:1", 2).toString());

        assertThat(created.exit()).as(created.stderr()).isZero();
        assertThat(created.stdout()).contains("created fleet app: release 1, 2 machines",
                "2 of 2 machines running with their checks passing");
        assertThat(machines()).as("it returned once they ran").hasSize(2)
                .allSatisfy(m -> assertThat(m.state()).isEqualTo(MachineState.RUNNING));

        // A new image: a rolling deployment of release 2, followed to its end; --max-unavailable over [deploy].
        Run deployed = bolero("-c", manifest("busybox:2", 2).toString(), "--max-unavailable", "2");

        assertThat(deployed.exit()).as(deployed.stderr()).isZero();
        assertThat(deployed.stdout()).contains("release 1 -> 2 (rolling)",
                "started: deploying release 2 over release 1: rolling, max_unavailable 2, wait_timeout_s 60",
                "replacing: replacing machine ", "healthy: machine ",
                "succeeded: every machine runs release 2 and is healthy");
        assertThat(machines()).hasSize(2).allSatisfy(m -> {
            assertThat(m.configVersion()).isEqualTo(2);
            assertThat(m.config().image().value()).isEqualTo("busybox:2");
            assertThat(m.config().env()).containsEntry("MODE", "test");
        });

        // A new count alone: the fleet's placement is updated (the control plane grows it at once, or the deployment
        // does), and the same config redeploys its release.
        Run grown = bolero("app", "-c", manifest("busybox:2", 3).toString());

        assertThat(grown.exit()).as(grown.stderr()).isZero();
        assertThat(grown.stdout()).contains("updated fleet app: count 3", "started: redeploying release 2",
                "succeeded: every machine runs release 2 and is healthy");
        assertThat(machines()).hasSize(3).allSatisfy(m -> assertThat(m.configVersion()).isEqualTo(2));
        assertThat(client().deployments("beta", "app")).hasSize(2);
    }

    @Test
    void aBadManifestIsAUsageErrorNamingTheKeyAndItsLine() throws Exception {
        Path toml = Files.writeString(cli.dir().resolve("bolero.toml"), "name = \"app\"\ncount = 1\n[config]\n"
                + "image = \"busybox\"\ncpus = 1\n");

        Run bad = bolero("-c", toml.toString());
        Run other = bolero("web", "-c", manifest("busybox:1", 1).toString());

        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.stderr()).contains("bolero: read " + toml + ": unknown field 'config.cpus' (line 5)");
        assertThat(other.exit()).isEqualTo(2);
        assertThat(other.stderr()).contains("describes fleet app");
        assertThat(client().fleets("beta")).isEmpty();
    }
}
