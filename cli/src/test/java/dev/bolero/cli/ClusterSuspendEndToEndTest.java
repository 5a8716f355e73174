package dev.bolero.cli;

import static dev.bolero.cli.OneNodeCluster.NS;
import static dev.bolero.cli.OneNodeCluster.counts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.api.wire.Capacity;
import dev.bolero.cli.CliProcess.Run;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Suspend and resume through the control plane with a real server (SQLite) and a real agent joined to it, both in this
 * JVM, and one real QEMU microVM whose workload counts in memory: suspended through the API and resumed with
 * {@code bolero start}, then suspended with {@code bolero suspend} and resumed through the API. The same process counts
 * on across both (one pid, the count never starts again), and {@code bolero ps} lists it while it is suspended. One
 * cold boot, two resumes.
 */
class ClusterSuspendEndToEndTest {
    @TempDir
    Path dir;

    private OneNodeCluster cluster;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new OneNodeCluster(dir, "suspend", new Capacity(2, 2048));
    }

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    @Test
    void a_counting_machine_suspended_through_the_server_resumes_on_its_node_counting_on_and_the_cli_does_both()
            throws Exception {
        String id = cluster.startCounter("suspend/counter:1");

        // Through the API: the answer comes at once, the state once the node has saved the machine.
        var suspend = cluster.api("POST", NS + "/machines/" + id + "/suspend", null);
        assertThat(suspend.status()).as("%s", suspend).isEqualTo(200);
        assertThat(suspend.json().path("desired_state").asString()).isEqualTo("suspended");
        cluster.waitFor(id, "suspended");
        assertThat(cluster.local("GET", "/api/v1/machines/" + id).json().path("state").asString())
                .isEqualTo("suspended");
        long last = counts(cluster.logs(id)).getLast()[0];

        Run ps = cluster.bolero("ps");
        assertThat(ps.exit()).as(ps.stderr()).isZero();
        assertThat(ps.stdout().lines().filter(l -> l.contains(id)).toList()).as(ps.stdout()).singleElement()
                .asString().contains("suspended");
        Run start = cluster.bolero("start", "counter");
        assertThat(start.exit()).as(start.stderr()).isZero();
        assertThat(start.stdout()).contains(id);
        cluster.waitFor(id, "running");
        assertCountsOn(id, last);

        // Through the CLI, resumed through the API.
        Run cliSuspend = cluster.bolero("suspend", "counter");
        assertThat(cliSuspend.exit()).as(cliSuspend.stderr()).isZero();
        assertThat(cliSuspend.stdout()).contains(id).contains("suspended");
        cluster.waitFor(id, "suspended");
        last = counts(cluster.logs(id)).getLast()[0];
        assertThat(cluster.api("POST", NS + "/machines/" + id + "/start", null).status()).isEqualTo(200);
        cluster.waitFor(id, "running");
        assertCountsOn(id, last);

        List<String> types = new ArrayList<>();
        cluster.api("GET", NS + "/machines/" + id + "/events", null).json()
                .forEach(e -> types.add(e.path("type").asString()));
        assertThat(types).contains("suspended", "resumed").doesNotContain("snapshot_discarded");
    }

    /** The count goes on past {@code last} in the same process: one pid, and it never started again. */
    private void assertCountsOn(String id, long last) {
        await().atMost(Duration.ofSeconds(60)).until(() -> counts(cluster.logs(id)).getLast()[0] > last + 5);
        List<long[]> counts = counts(cluster.logs(id));
        long pid = counts.getFirst()[1];
        assertThat(counts).as("the same process counts on").allSatisfy(c -> assertThat(c[1]).isEqualTo(pid));
        assertThat(counts.stream().filter(c -> c[0] == 1).count()).as("the count never starts again").isEqualTo(1);
    }
}
