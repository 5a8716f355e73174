package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.oci.testing.ImageSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

/**
 * Parts of a machine that fail under it, against real QEMU microVMs: its guest kernel panics, its VMM is killed with
 * SIGKILL. Each ends in a defined, visible state (failed, with the reason in its events), the agent keeps serving,
 * and deleting the machine leaves no process or file.
 */
class FailingPartsEndToEndTest {
    @RegisterExtension
    static final AgentFixture env = AgentFixture.withImage("failing/app:1", ImageSpec.cmd("sleep", "600"));

    @Test
    void a_guest_kernel_panic_fails_the_machine_with_the_panic_as_its_reason(AgentHarness node) {
        // Root in the guest asks its kernel to panic rather than kill on out-of-memory, then fills its memory with a
        // file on a tmpfs (which nothing can reclaim).
        String id = node.create("""
                {"start": true, "config": {"image": "%s", "guest": {"cpus": 1, "memory_mb": 128},
                 "init": {"cmd": ["sh", "-c", "echo 1 > /proc/sys/vm/panic_on_oom && echo armed && mkdir -p /fill && mount -t tmpfs -o size=100%% fill /fill && cat /dev/zero > /fill/zeros"]}}}
                """.formatted(env.image()));
        JsonNode failed = node.waitFor(id, "failed", 240);
        JsonNode ended = lastEvent(node, id);
        assertThat(ended.path("reason").asString()).as("%s", failed).isEqualTo("kernel panic");
        assertThat(ended.path("detail").asString()).as("%s", ended).contains("the guest kernel panicked")
                .contains("Out of memory");
        assertThat(node.logs(id)).contains("armed");
        deleteLeavingNothing(node, id);
    }

    @Test
    void a_vmm_killed_with_sigkill_fails_the_machine_and_the_agent_keeps_serving(AgentHarness node) throws Exception {
        String id = node.create("""
                {"start": true, "config": {"image": "%s", "guest": {"cpus": 1, "memory_mb": 128}}}
                """.formatted(env.image()));
        node.waitFor(id, "running", 240);
        List<Long> vmm = AgentHarness.processesMentioning(env.dataDir().resolve("machines").resolve(id) + "/")
                .stream().filter(pid -> command(pid).split(" ")[0].contains("qemu-system")).toList();
        assertThat(vmm).as("the machine's VMM (%s)", vmm.stream().map(FailingPartsEndToEndTest::command).toList())
                .hasSize(1);
        new ProcessBuilder("kill", "-9", Long.toString(vmm.getFirst())).start().waitFor();

        node.waitFor(id, "failed", 60);
        JsonNode ended = lastEvent(node, id);
        assertThat(ended.path("reason").asString()).as("%s", ended).isEqualTo("vmm crashed");
        assertThat(ended.path("detail").asString()).as("%s", ended).contains("the VMM exited unexpectedly");
        assertThat(node.get("/api/v1/machines").status()).as("the agent still serves").isEqualTo(200);
        deleteLeavingNothing(node, id);
    }

    private static String command(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static JsonNode lastEvent(AgentHarness node, String id) {
        JsonNode events = node.get("/api/v1/machines/" + id + "/events").json();
        JsonNode last = events.get(events.size() - 1);
        assertThat(last.path("type").asString()).as("%s", events).isEqualTo("ended");
        assertThat(last.path("state").asString()).as("%s", events).isEqualTo("failed");
        return last;
    }

    private static void deleteLeavingNothing(AgentHarness node, String id) {
        assertThat(node.delete("/api/v1/machines/" + id).status()).isEqualTo(204);
        Path dir = env.dataDir().resolve("machines").resolve(id);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(Files.exists(dir)).as("%s", dir).isFalse();
            assertThat(AgentHarness.processesMentioning(id)).isEmpty();
        });
    }
}
