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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fork through the control plane with a real server (SQLite) and a real agent joined to it, both in this JVM
 * ({@link OneNodeCluster}), and a real QEMU microVM whose workload counts in memory: {@code bolero fork counter -c 3}
 * past the namespace's quota is refused (exit 7, nothing made); {@code bolero fork counter --count 2} within it makes
 * two clones, placed on the source's node, that reach running, carry on the source's count in the same process, and
 * have their own hostnames and machine-ids; the source counts on. One cold boot, two clones.
 */
class ClusterForkEndToEndTest {
    @TempDir
    Path dir;

    private OneNodeCluster cluster;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new OneNodeCluster(dir, "fork", new Capacity(4, 2048));
    }

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    @Test
    void clones_forked_with_the_cli_run_on_the_sources_node_from_its_memory_within_the_namespaces_quota()
            throws Exception {
        String source = cluster.startCounter("fork/counter:1");
        long sourcePid = counts(cluster.logs(source)).getFirst()[1];

        assertThat(cluster.api("PUT", NS + "/quota", Map.of("machines", 3)).status()).isEqualTo(200);
        Run over = cluster.bolero("fork", "counter", "-c", "3");
        assertThat(over.exit()).as(over.stderr()).isEqualTo(7);
        assertThat(over.stderr()).contains("fork machine " + source);
        assertThat(cluster.api("GET", NS + "/machines", null).json()).hasSize(1);

        Run fork = cluster.bolero("fork", "counter", "--count", "2");
        assertThat(fork.exit()).as(fork.stderr()).isZero();
        List<String> clones = new ArrayList<>();
        cluster.api("GET", NS + "/machines", null).json().forEach(m -> {
            if (!m.path("id").asString().equals(source)) clones.add(m.path("id").asString());
        });
        assertThat(clones).hasSize(2);
        Set<String> hostnames = new HashSet<>(Set.of(hostnameAndMachineId(source)[0]));
        Set<String> machineIds = new HashSet<>();
        for (String clone : clones) {
            assertThat(fork.stdout()).contains(clone);
            cluster.waitFor(clone, "running");
            assertThat(cluster.api("GET", NS + "/machines/" + clone, null).json().path("node_id").asString())
                    .isEqualTo(cluster.api("GET", NS + "/machines/" + source, null).json().path("node_id").asString());
            long last = counts(cluster.logs(clone)).isEmpty() ? 0 : counts(cluster.logs(clone)).getLast()[0];
            await().atMost(Duration.ofSeconds(60)).until(() -> !counts(cluster.logs(clone)).isEmpty()
                    && counts(cluster.logs(clone)).getLast()[0] > last + 3);
            assertThat(counts(cluster.logs(clone))).as("the source's process counts on in the clone")
                    .allSatisfy(c -> assertThat(c[1]).isEqualTo(sourcePid))
                    .noneSatisfy(c -> assertThat(c[0]).isEqualTo(1));
            String[] identity = hostnameAndMachineId(clone);
            assertThat(hostnames.add(identity[0])).as("hostname %s", identity[0]).isTrue();
            assertThat(machineIds.add(identity[1])).as("machine-id %s", identity[1]).isTrue();
        }
        long lastSource = counts(cluster.logs(source)).getLast()[0];
        await().atMost(Duration.ofSeconds(60)).until(() -> counts(cluster.logs(source)).getLast()[0] > lastSource + 3);
        assertThat(counts(cluster.logs(source))).allSatisfy(c -> assertThat(c[1]).isEqualTo(sourcePid));
    }

    /** The guest's hostname and {@code /etc/machine-id}, through the server's exec. */
    private String[] hostnameAndMachineId(String id) {
        var r = cluster.api("POST", NS + "/machines/" + id + "/exec",
                Map.of("cmd", List.of("sh", "-c", "hostname; cat /etc/machine-id 2>/dev/null || echo none")));
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        return r.json().path("stdout").asString().split("\n");
    }
}
