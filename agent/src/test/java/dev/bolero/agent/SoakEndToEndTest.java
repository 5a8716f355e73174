package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.oci.testing.ImageSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A soak of the whole machine life with real microVMs, jailed, on a real node network: {@value #DEFAULT_CYCLES}
 * cycles (or {@code -Dbolero.soak.cycles=N}; {@code bench/soak.sh} runs hundreds) of create with a published port →
 * running → a request through the port → exec → stop → start → forced delete. Afterwards the node holds what it held after
 * one warm-up cycle: no more file descriptors or threads in the agent's process, and none of the cycles' taps,
 * bridges, nftables rules, cgroups, uid claims, mounts or files.
 */
class SoakEndToEndTest {
    private static final int DEFAULT_CYCLES = 4;
    private static final int CYCLES = Integer.getInteger("bolero.soak.cycles", DEFAULT_CYCLES);
    /**
     * How many file descriptors and threads the agent's process may hold above its count after the warm-up: pools
     * that grow under load (HTTP clients, Jetty's threads) and shrink later. A leak per cycle passes it after a few
     * cycles.
     */
    private static final int SLACK = 3;

    @RegisterExtension
    static final AgentFixture env = AgentFixture.withImage("soak/web:1",
            ImageSpec.cmd("httpd", "-f", "-p", "8080", "-h", "/www").withFile("/www/index.html", "soak\n"));

    @TempDir
    static Path dataDir;

    @RegisterExtension
    static final HostNetworkFixture net = HostNetworkFixture.perClass();

    /** What a node holds that a machine's life could leak. */
    record Holdings(int fds, int threads, List<String> devices, int nftLines, List<String> cgroups,
                    List<String> uidClaims, List<String> mounts, List<String> files) {}

    @Test
    void machine_lives_leave_the_node_as_they_found_it() throws Exception {
        Path dir = dataDir.resolve("soak");
        try (var node = new AgentHarness(dir, Set.of(), Optional.of(net.config()))) {
            List<String> ids = new ArrayList<>();
            ids.add(cycle(node, 0)); // warm-up: the image pull, pools and connections that stay
            Holdings before = holdings(dir, ids);
            var took = new double[CYCLES];
            for (int i = 1; i <= CYCLES; i++) {
                long started = System.nanoTime();
                ids.add(cycle(node, i));
                took[i - 1] = (System.nanoTime() - started) / 1e9;
            }
            var after = new java.util.concurrent.atomic.AtomicReference<Holdings>();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
                Holdings now = holdings(dir, ids);
                after.set(now);
                assertThat(now.fds()).as("agent file descriptors (%s before)", before.fds())
                        .isLessThanOrEqualTo(before.fds() + SLACK);
                assertThat(now.threads()).as("agent threads (%s before)", before.threads())
                        .isLessThanOrEqualTo(before.threads() + SLACK);
                assertThat(now.devices()).as("taps and bridges").isEqualTo(before.devices());
                assertThat(now.nftLines()).as("lines of the node's nftables tables").isEqualTo(before.nftLines());
                assertThat(now.cgroups()).as("the cycles' cgroups").isEmpty();
                assertThat(now.uidClaims()).as("uid claims of this agent").isEmpty();
                assertThat(now.mounts()).as("mounts under the data directory").isEmpty();
                assertThat(now.files()).as("files under machines/ and volumes/").isEmpty();
            });
            // Whether cycles slow down as the node ages: the first quarter's mean beside the last quarter's.
            int quarter = Math.max(1, CYCLES / 4);
            System.out.printf("SOAK cycles=%d seconds=%.1f first_%d_mean_s=%.2f last_%d_mean_s=%.2f%n", CYCLES,
                    java.util.Arrays.stream(took).sum(), quarter, java.util.Arrays.stream(took, 0, quarter).average()
                            .orElseThrow(), quarter, java.util.Arrays.stream(took, CYCLES - quarter, CYCLES).average()
                            .orElseThrow());
            System.out.printf("SOAK before: %s%nSOAK after:  %s%n", before, after.get());
        }
    }

    /** One machine's whole life; its id. */
    private static String cycle(AgentHarness node, int i) throws Exception {
        int port = HostNetworkFixture.freePort();
        String id = node.create("""
                {"name": "soak-%d", "namespace": "soak", "start": true, "config": {"image": "%s",
                 "guest": {"cpus": 1, "memory_mb": 128},
                 "services": [{"protocol": "tcp", "internal_port": 8080, "port": %d}]}}
                """.formatted(i, env.image(), port));
        node.waitFor(id, "running", 240);
        await().atMost(Duration.ofSeconds(60)).until(
                () -> HostNetworkFixture.fetch("http://" + net.publishAddress + ":" + port + "/").equals("soak\n"));
        assertThat(node.exec(id, "{\"cmd\": [\"echo\", \"cycle " + i + "\"]}").path("stdout").asString())
                .isEqualTo("cycle " + i + "\n");
        assertThat(node.post("/api/v1/machines/" + id + "/stop", "").status()).isEqualTo(200);
        node.waitFor(id, "stopped", 90);
        assertThat(node.post("/api/v1/machines/" + id + "/start", "").status()).isEqualTo(200);
        node.waitFor(id, "running", 240);
        // A running machine goes with force (its VMM killed), as an impatient client deletes.
        assertThat(node.delete("/api/v1/machines/" + id + "?force=true").status()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(30)).until(() -> node.get("/api/v1/machines/" + id).status() == 404);
        return id;
    }

    private static Holdings holdings(Path dir, List<String> ids) throws Exception {
        return new Holdings(count(Path.of("/proc/self/fd")), count(Path.of("/proc/self/task")), net.devices(),
                (int) net.tables().lines().count(), cgroupsOf(ids), claimsOf(dir), mountsUnder(dir),
                filesUnder(dir.resolve("machines"), dir.resolve("volumes")));
    }

    private static int count(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return (int) entries.count();
        }
    }

    /** The cgroups, in every hierarchy, named after one of {@code ids} (a jailed VMM's is {@code ID-UID}). */
    private static List<String> cgroupsOf(List<String> ids) throws IOException {
        var found = new ArrayList<String>();
        try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path h : hierarchies.toList()) {
                Path parent = h.resolve("bolero");
                if (!Files.isDirectory(parent)) continue;
                try (Stream<Path> groups = Files.list(parent)) {
                    groups.filter(g -> ids.stream().anyMatch(id -> g.getFileName().toString().startsWith(id + "-")))
                            .forEach(g -> found.add(g.toString()));
                }
            }
        }
        return found;
    }

    /** The host-wide uid claims whose jail lies under {@code dir}. */
    private static List<String> claimsOf(Path dir) throws IOException {
        Path claims = Path.of("/run/bolero/uids");
        if (!Files.isDirectory(claims)) return List.of();
        var found = new ArrayList<String>();
        try (Stream<Path> files = Files.list(claims)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                try {
                    if (Files.readString(f, StandardCharsets.UTF_8).contains(dir.toString())) found.add(f.toString());
                } catch (IOException e) {
                    // released meanwhile
                }
            }
        }
        return found;
    }

    private static List<String> mountsUnder(Path dir) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().filter(l -> l.contains(dir.toString()))
                .toList();
    }

    private static List<String> filesUnder(Path... dirs) throws IOException {
        var found = new ArrayList<String>();
        for (Path d : dirs) {
            if (!Files.isDirectory(d)) continue;
            try (Stream<Path> files = Files.walk(d)) {
                files.filter(p -> !p.equals(d)).forEach(p -> found.add(p.toString()));
            }
        }
        return found;
    }
}
