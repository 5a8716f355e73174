package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static dev.bolero.agent.GuestProbe.counts;
import static dev.bolero.agent.GuestProbe.identity;
import static dev.bolero.agent.GuestProbe.types;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Fork with real QEMU guests on a real node network: a machine whose workload counts in memory and serves HTTP (a CGI
 * answering with the guest's hostname) is forked into two clones. Each clone carries on the source's count (the same
 * process, from the memory it was copied from), has its own address, hostname, machine-id and random numbers, and
 * answers on its own address; the source counts on, unaffected. Deleting the clones removes their files, taps and
 * VMMs. One cold boot in all.
 */
class ForkEndToEndTest {
    @RegisterExtension
    static final AgentFixture env = AgentFixture.withImage("fork/web:1", GuestProbe.COUNTING_WEB_SERVER);

    @TempDir
    static Path dataDir;

    @RegisterExtension
    static final HostNetworkFixture net = HostNetworkFixture.perClass();

    @Test
    void clonesCarryOnTheSourcesMemoryWithIdentitiesOfTheirOwnAndTheSourceRunsOn() throws Exception {
        try (var node = new AgentHarness(dataDir.resolve("fork"), Set.of(), Optional.of(net.config()))) {
            String source = node.create("""
                    {"name": "source", "namespace": "alpha", "start": true, "config": {"image": "%s"}}
                    """.formatted(env.image()));
            String sourceIp = node.waitFor(source, "running", 300).path("ip").asString();
            await().atMost(Duration.ofSeconds(60)).until(() -> counts(node.logs(source)).size() >= 3);
            long sourcePid = counts(node.logs(source)).getFirst()[1];
            List<String> devicesBefore = net.devices();

            AgentHarness.Response forked = node.post("/api/v1/machines/" + source + "/fork", "{\"count\": 2}");
            assertThat(forked.status()).as(forked.body()).isEqualTo(201);
            List<String> clones = new ArrayList<>();
            forked.json().forEach(m -> clones.add(m.path("id").asString()));
            assertThat(clones).hasSize(2).doesNotContain(source);

            Set<String> ips = new HashSet<>(Set.of(sourceIp));
            Set<String> hostnames = new HashSet<>(Set.of(identity(node, source).hostname()));
            Set<String> machineIds = new HashSet<>();
            Set<String> randoms = new HashSet<>(Set.of(identity(node, source).random()));
            Set<String> macs = new HashSet<>(Set.of(identity(node, source).mac()));
            for (String clone : clones) {
                JsonNode m = node.waitFor(clone, "running", 300);
                assertThat(m.path("namespace").asString()).isEqualTo("alpha");
                String ip = m.path("ip").asString();
                assertThat(ips.add(ip)).as("clone %s has an address of its own: %s", clone, ip).isTrue();
                GuestProbe.Identity id = identity(node, clone);
                assertThat(id.hostname()).isEqualTo(clone);
                assertThat(hostnames.add(id.hostname())).isTrue();
                assertThat(id.machineId()).matches("[0-9a-f]{32}");
                assertThat(machineIds.add(id.machineId())).isTrue();
                assertThat(randoms.add(id.random())).as("the clone's RNG was reseeded").isTrue();
                assertThat(macs.add(id.mac())).as("the clone's MAC: %s", id.mac()).isTrue();
                assertThat(node.console(clone)).as("init took the identity without a complaint")
                        .doesNotContain("identity:");
                assertThat(id.addresses()).contains("inet " + ip + "/").doesNotContain("inet " + sourceIp + "/");
                assertThat(HostNetworkFixture.fetch("http://" + ip + ":8080/cgi-bin/id").strip())
                        .as("the clone answers on its own address").isEqualTo(clone);
                List<long[]> counts = counts(node.logs(clone));
                await("clone " + clone + " counts on").atMost(Duration.ofSeconds(60))
                        .until(() -> counts(node.logs(clone)).getLast()[0] > counts.getLast()[0] + 3);
                assertThat(counts(node.logs(clone))).as("the source's process, counting on from the source's memory")
                        .allSatisfy(c -> assertThat(c[1]).isEqualTo(sourcePid))
                        .anySatisfy(c -> assertThat(c[0]).isGreaterThan(3));
                assertThat(types(node.get("/api/v1/machines/" + clone + "/events").json()))
                        .contains("cloned", "resumed").doesNotContain("snapshot_discarded");
            }

            // The source runs on: the same process, counting on; it still answers on its address.
            long lastBefore = counts(node.logs(source)).getLast()[0];
            await().atMost(Duration.ofSeconds(60)).until(() -> counts(node.logs(source)).getLast()[0] > lastBefore + 3);
            assertThat(counts(node.logs(source))).allSatisfy(c -> assertThat(c[1]).isEqualTo(sourcePid));
            assertThat(counts(node.logs(source)).stream().filter(c -> c[0] == 1).count()).isEqualTo(1);
            assertThat(HostNetworkFixture.fetch("http://" + sourceIp + ":8080/cgi-bin/id").strip()).isEqualTo("source");
            assertThat(node.get("/api/v1/machines/" + source).json().path("state").asString()).isEqualTo("running");
            assertThat(Files.list(dataDir.resolve("fork/machines").resolve(source)).map(p -> p.getFileName().toString()))
                    .as("no seed is left in the source's directory").noneMatch(n -> n.startsWith("fork-"));

            // Deleting a clone removes its files, VMM and tap.
            for (String clone : clones) {
                Path dir = dataDir.resolve("fork/machines").resolve(clone);
                assertThat(node.delete("/api/v1/machines/" + clone + "?force=true").status()).isEqualTo(204);
                assertThat(Files.exists(dir)).isFalse();
                assertThat(AgentHarness.processesMentioning(dir + "/")).isEmpty();
            }
            assertThat(net.devices()).isEqualTo(devicesBefore);
        }
    }
}
