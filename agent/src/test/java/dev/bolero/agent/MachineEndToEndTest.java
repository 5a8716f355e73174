package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.oci.testing.ImageSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

/**
 * The walking skeleton end to end: a real registry ({@code docker-registry}), images built with umoci and pushed
 * with skopeo, real QEMU microVMs booting Debian's kernel with bolero-init, through the node API.
 */
class MachineEndToEndTest {
    @RegisterExtension
    static final AgentFixture env = AgentFixture.withImage("e2e/greeter:1",
            ImageSpec.cmd("sh", "-c", "echo \"greeting=$GREETING\"; echo to-stderr >&2")
                    .withEnv("GREETING=from-image"));

    @Test
    void an_image_runs_and_its_output_and_exit_code_come_back(AgentHarness node) {
        String id = node.create("{\"start\": true, \"config\": {\"image\": \"" + env.image() + "\"}}");
        JsonNode m = node.waitFor(id, "stopped", 240);
        assertThat(m.path("exit_code").asInt()).isZero();
        assertThat(m.path("image_digest").asString()).startsWith("sha256:");
        assertThat(node.logs(id)).isEqualTo("greeting=from-image\nto-stderr\n");
        assertThat(node.console(id)).contains("bolero-init: started sh as pid ");
        assertOwnerOnly(id);
    }

    /**
     * The store (and its journal files) and the machine's directory hold tenants' data: the directory is
     * {@code 0700} and every file in it (but the VMM's pid file, which QEMU writes and which says nothing of the
     * tenant) and the store's files are {@code 0600}.
     */
    private static void assertOwnerOnly(String id) {
        Path dir = env.dataDir().resolve("machines").resolve(id);
        var modes = new java.util.TreeMap<String, String>();
        try (var files = Files.list(dir)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).as(dir.toString())
                    .isEqualTo("rwx------");
            for (Path file : files.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS))
                    .filter(f -> !f.getFileName().toString().equals("vmm.pid")).toList()) {
                modes.put(file.getFileName().toString(),
                        PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            }
            for (String store : List.of("bolero.db", "bolero.db-wal", "bolero.db-shm")) {
                Path file = env.dataDir().resolve(store);
                modes.put(store, PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertThat(modes).containsKeys("workload.log", "console.log", "vmm.log");
        assertThat(modes).allSatisfy((name, mode) -> assertThat(mode).as(name).isEqualTo("rw-------"));
    }

    @Test
    void env_cmd_workdir_and_user_overrides_apply_and_the_exit_code_propagates(AgentHarness node) {
        String id = node.create("""
                {"name": "overrides", "start": true, "config": {"image": "%s",
                 "guest": {"cpus": 1, "memory_mb": 192},
                 "env": {"GREETING": "from-machine", "EXTRA": "x y"},
                 "init": {"cmd": ["sh", "-c", "echo \\"$GREETING|$EXTRA|$(pwd)|$(id -u)\\"; exit 7"],
                          "workdir": "/tmp", "user": "app"}}}
                """.formatted(env.image()));
        JsonNode m = node.waitFor(id, "stopped", 240);
        assertThat(m.path("exit_code").asInt()).isEqualTo(7);
        assertThat(m.path("name").asString()).isEqualTo("overrides");
        assertThat(m.path("config").path("guest").path("memory_mb").asInt()).isEqualTo(192);
        assertThat(node.logs(id)).isEqualTo("from-machine|x y|/tmp|1000\n");
    }

    @Test
    void a_workload_that_cannot_start_fails_the_machine_with_the_guest_reason_and_leaves_no_vmm(AgentHarness node) {
        String id = node.create("{\"config\": {\"image\": \"" + env.image()
                + "\", \"init\": {\"cmd\": [\"/no/such/program\"]}}}");
        assertThat(node.get("/api/v1/machines/" + id).json().path("state").asString()).isEqualTo("created");
        AgentHarness.Response start = node.post("/api/v1/machines/" + id + "/start", "");
        assertThat(start.status()).as(start.body()).isEqualTo(200);
        assertThat(start.json().path("state").asString()).isEqualTo("starting");
        JsonNode m = node.waitFor(id, "failed", 240);
        assertThat(m.path("error").asString())
                .isEqualTo("run machine " + id + ": exec /no/such/program: No such file or directory");
        await().atMost(Duration.ofSeconds(30)).until(() -> AgentHarness.processesMentioning(id).isEmpty());
    }

    @Test
    void stopping_a_long_running_workload_signals_it_and_delete_leaves_nothing_behind(AgentHarness node) {
        String id = node.create("{\"start\": true, \"config\": {\"image\": \"" + env.image() + "\","
                + " \"init\": {\"cmd\": [\"sh\", \"-c\", \"echo up; exec sleep 600\"]}}}");
        node.waitFor(id, "running", 240);
        await().atMost(Duration.ofSeconds(60)).until(() -> node.logs(id).contains("up"));
        assertThat(AgentHarness.processesMentioning(id)).isNotEmpty();

        AgentHarness.Response stop = node.post("/api/v1/machines/" + id + "/stop",
                "{\"signal\": \"SIGTERM\", \"timeout_s\": 30}");
        assertThat(stop.status()).as(stop.body()).isEqualTo(200);
        JsonNode m = node.waitFor(id, "stopped", 60);
        assertThat(m.path("exit_code").asInt()).isEqualTo(143);

        assertThat(node.delete("/api/v1/machines/" + id).status()).isEqualTo(204);
        assertThat(node.get("/api/v1/machines/" + id).status()).isEqualTo(404);
        assertThat(AgentHarness.processesMentioning(id)).isEmpty();
        assertThat(env.dataDir().resolve("machines").resolve(id)).doesNotExist();
    }

    @Test
    void a_workload_that_ignores_the_signal_is_powered_off_after_the_timeout(AgentHarness node) {
        String id = node.create("{\"start\": true, \"config\": {\"image\": \"" + env.image() + "\","
                + " \"init\": {\"cmd\": [\"sh\", \"-c\", \"trap '' TERM; echo up; while true; do sleep 1; done\"]}}}");
        node.waitFor(id, "running", 240);
        await().atMost(Duration.ofSeconds(60)).until(() -> node.logs(id).contains("up"));
        node.post("/api/v1/machines/" + id + "/stop", "{\"timeout_s\": 2}");
        JsonNode m = node.waitFor(id, "stopped", 60);
        assertThat(m.path("exit_code").isNull()).as(m.toString()).isTrue();
        assertThat(AgentHarness.processesMentioning(id)).isEmpty();
    }

    @Test
    void a_restarted_agent_lists_its_machines_and_re_adopts_running_ones(AgentHarness node) {
        String id = node.create("{\"start\": true, \"config\": {\"image\": \"" + env.image() + "\","
                + " \"init\": {\"cmd\": [\"sh\", \"-c\", \"echo before; exec sleep 600\"]}}}");
        node.waitFor(id, "running", 240);
        List<Long> pids = AgentHarness.processesMentioning(id);
        assertThat(pids).isNotEmpty();

        node.stopAgent();
        assertThat(AgentHarness.processesMentioning(id)).as("the VMM outlives the agent").isEqualTo(pids);
        node.start();

        JsonNode m = node.get("/api/v1/machines/" + id).json();
        assertThat(m.path("state").asString()).isEqualTo("running");
        assertThat(AgentHarness.processesMentioning(id)).as("not restarted").isEqualTo(pids);
        assertThat(node.post("/api/v1/machines/" + id + "/stop", "{\"timeout_s\": 20}").status()).isEqualTo(200);
        assertThat(node.waitFor(id, "stopped", 60).path("exit_code").asInt()).isEqualTo(143);
        assertThat(Files.exists(env.dataDir().resolve("machines").resolve(id))).isTrue();
    }
}
