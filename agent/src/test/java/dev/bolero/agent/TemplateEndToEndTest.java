package dev.bolero.agent;

import static dev.bolero.agent.GuestProbe.counts;
import static dev.bolero.agent.GuestProbe.identity;
import static dev.bolero.agent.GuestProbe.types;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Warm starts with real QEMU guests on a real node network. A machine with {@code warm_start} boots cold and leaves a
 * template once its workload is up; a second machine of the same image and config starts from it (the template's
 * workload, counting on from its memory) with an identity of its own and answers on its own address; a changed config
 * boots cold; the template survives an agent restart; a corrupted template is discarded with an event and the machine
 * boots (and leaves a new one); deleting the machines and the image leaves no file behind. Three cold boots in all.
 */
class TemplateEndToEndTest {
    @RegisterExtension
    static final AgentFixture env = AgentFixture.withImage("template/web:1", GuestProbe.COUNTING_WEB_SERVER);

    @TempDir
    static Path dataDir;

    @RegisterExtension
    static final HostNetworkFixture net = HostNetworkFixture.perClass();

    @Test
    void aSecondMachineOfAnImageStartsFromTheTemplateTheFirstLeft() throws Exception {
        Path data = dataDir.resolve("node");
        try (var node = new AgentHarness(data, Set.of(), Optional.of(net.config()))) {
            // The first machine boots and leaves a template once its workload is up.
            String first = create(node, "first", "");
            JsonNode firstView = node.waitFor(first, "running", 300);
            String firstIp = firstView.path("ip").asString();
            String digest = firstView.path("image_digest").asString();
            assertThat(types(events(node, first))).doesNotContain("started_from_template");
            awaitEvent(node, first, "template_taken");
            JsonNode templates = node.get("/api/v1/templates").json();
            assertThat(templates).hasSize(1);
            String key = templates.get(0).path("key").asString();
            assertThat(templates.get(0).path("image").asString()).isEqualTo(digest);
            assertThat(templates.get(0).path("source").asString()).isEqualTo(first);
            assertThat(modes(data.resolve("templates").resolve(key))).containsEntry(".", "rwx------")
                    .containsEntry("qemu-state", "rw-------").containsEntry("manifest.properties", "rw-------")
                    .containsEntry("template.properties", "rw-------")
                    .as("the frozen drive is read-only, as a fork's, for jailed VMMs of other uids")
                    .containsEntry("seed.qcow2", "r--r--r--");
            long templatePid = counts(node.logs(first)).getFirst()[1];

            // A second machine of the same image and config (other name, metadata) starts from it.
            String second = create(node, "second", ", \"metadata\": {\"team\": \"blue\"}");
            JsonNode secondView = node.waitFor(second, "running", 300);
            assertThat(types(events(node, second))).contains("started_from_template")
                    .doesNotContain("template_discarded", "snapshot_discarded");
            String secondIp = secondView.path("ip").asString();
            assertThat(secondIp).isNotEqualTo(firstIp);
            GuestProbe.Identity a = identity(node, first);
            GuestProbe.Identity b = identity(node, second);
            assertThat(b.hostname()).isEqualTo("second");
            assertThat(b.machineId()).matches("[0-9a-f]{32}").isNotEqualTo(a.machineId());
            assertThat(b.random()).as("its RNG was reseeded").isNotEqualTo(a.random());
            assertThat(b.mac()).isNotEqualTo(a.mac());
            assertThat(b.addresses()).contains("inet " + secondIp + "/").doesNotContain("inet " + firstIp + "/");
            assertThat(HostNetworkFixture.fetch("http://" + secondIp + ":8080/cgi-bin/id").strip()).isEqualTo("second");
            assertThat(HostNetworkFixture.fetch("http://" + firstIp + ":8080/cgi-bin/id").strip()).isEqualTo("first");
            await().atMost(Duration.ofSeconds(60)).until(() -> counts(node.logs(second)).size() >= 2);
            assertThat(counts(node.logs(second))).as("the template's workload counts on: it was not started again")
                    .allSatisfy(c -> assertThat(c[1]).isEqualTo(templatePid))
                    .allSatisfy(c -> assertThat(c[0]).isGreaterThan(1));

            // Another config is another template: it boots.
            String other = create(node, "other", ", \"env\": {\"MODE\": \"other\"}");
            node.waitFor(other, "running", 300);
            assertThat(types(events(node, other))).doesNotContain("started_from_template");
            assertThat(node.delete("/api/v1/machines/" + other + "?force=true").status()).isEqualTo(204);

            // The template survives an agent restart.
            node.stopAgent();
            node.start();
            assertThat(node.get("/api/v1/templates").json()).extracting(t -> t.path("key").asString())
                    .contains(key);
            String third = create(node, "third", "");
            node.waitFor(third, "running", 300);
            assertThat(types(events(node, third))).contains("started_from_template");

            // A corrupted template is discarded, with an event saying why; the machine boots and leaves a new one.
            try (RandomAccessFile state = new RandomAccessFile(
                    data.resolve("templates").resolve(key).resolve("qemu-state").toFile(), "rw")) {
                state.seek(state.length() / 2);
                state.write(~state.read() & 0xff);
            }
            String fourth = create(node, "fourth", "");
            node.waitFor(fourth, "running", 300);
            JsonNode discarded = find(events(node, fourth), "template_discarded");
            assertThat(discarded.path("detail").asString()).contains("qemu-state", "checksum");
            assertThat(types(events(node, fourth))).doesNotContain("started_from_template");
            awaitEvent(node, fourth, "template_taken");
            assertThat(node.get("/api/v1/templates").json()).singleElement()
                    .satisfies(t -> assertThat(t.path("source").asString()).isEqualTo(fourth));

            // Deleting the machines and then their image leaves no file behind.
            for (String id : List.of(first, second, third, fourth)) {
                assertThat(node.delete("/api/v1/machines/" + id + "?force=true").status()).isEqualTo(204);
            }
            assertThat(node.delete("/api/v1/images/" + digest).status()).isEqualTo(204);
            assertThat(node.get("/api/v1/templates").json()).isEmpty();
            assertThat(children(data.resolve("templates"))).isEmpty();
            assertThat(children(data.resolve("machines"))).isEmpty();
            assertThat(AgentHarness.processesMentioning(data + "/")).isEmpty();
        }
    }

    @Test
    void aMachineWithSecretsOrVolumesCannotHaveWarmStarts(AgentHarness node) {
        AgentHarness.Response r = node.post("/api/v1/machines", """
                {"name": "vol", "config": {"image": "%s", "warm_start": true, "mounts": [{"volume": "data",
                 "path": "/data"}]}}""".formatted(env.image()));
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.errorMessage()).contains("config.warm_start", "mounts");
    }

    private String create(AgentHarness node, String name, String extraConfig) {
        return node.create("""
                {"name": "%s", "namespace": "alpha", "start": true,
                 "config": {"image": "%s", "warm_start": true%s}}
                """.formatted(name, env.image(), extraConfig));
    }

    private static JsonNode events(AgentHarness node, String id) {
        return node.get("/api/v1/machines/" + id + "/events").json();
    }

    private static void awaitEvent(AgentHarness node, String id, String type) {
        await(id + " " + type).atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(500))
                .until(() -> types(events(node, id)).contains(type));
    }

    private static JsonNode find(JsonNode events, String type) {
        for (JsonNode e : events) {
            if (e.path("type").asString().equals(type)) return e;
        }
        throw new AssertionError("no " + type + " event in " + events);
    }

    /** The mode of a directory ({@code .}) and of each of its files. */
    private static Map<String, String> modes(Path dir) throws IOException {
        Map<String, String> modes = new TreeMap<>();
        modes.put(".", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                modes.put(f.getFileName().toString(), PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
            }
        }
        return modes;
    }

    private static Set<String> children(Path dir) throws IOException {
        if (!Files.exists(dir)) return Set.of();
        try (Stream<Path> files = Files.list(dir)) {
            return new HashSet<>(files.map(p -> p.getFileName().toString()).toList());
        }
    }
}
