package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.oci.testing.ImageSpec;
import java.nio.file.Files;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

/**
 * A guest that does not start its workload within the agent's boot deadline (100 ms: no boot is that fast, not even the
 * lean kernel's or one on hardware KVM, since the VMM alone takes longer to reach the kernel) fails
 * with the reason {@code boot timeout}, its VMM is gone, and the agent keeps serving.
 */
class BootDeadlineEndToEndTest {
    @RegisterExtension
    static final AgentFixture env = AgentFixture.withImage("deadline/app:1", ImageSpec.cmd("sleep", "600"))
            .withBootDeadline(Duration.ofMillis(100));

    @Test
    void a_guest_that_misses_the_boot_deadline_fails_with_boot_timeout_and_leaves_nothing_running(AgentHarness node) {
        String id = node.create("{\"start\": true, \"config\": {\"image\": \"%s\"}}".formatted(env.image()));
        JsonNode failed = node.waitFor(id, "failed", 240);
        assertThat(failed.path("exit_code").isMissingNode() || failed.path("exit_code").isNull())
                .as("no workload ran: %s", failed).isTrue();

        JsonNode events = node.get("/api/v1/machines/" + id + "/events").json();
        JsonNode last = events.get(events.size() - 1);
        assertThat(last.path("state").asString()).as(events.toString()).isEqualTo("failed");
        assertThat(last.path("reason").asString()).as(events.toString()).isEqualTo("boot timeout");
        assertThat(last.path("detail").asString()).as(events.toString())
                .isEqualTo("boot timeout: the guest did not start the workload within 100 ms");
        assertThat(node.logs(id)).as("the workload never ran").isEmpty();
        assertThat(AgentHarness.processesMentioning(id)).as("the VMM is gone").isEmpty();

        assertThat(node.get("/api/v1/machines").status()).as("the agent keeps serving").isEqualTo(200);
        assertThat(node.delete("/api/v1/machines/" + id).status()).isBetween(200, 204);
        assertThat(node.get("/api/v1/machines/" + id).status()).isEqualTo(404);
        assertThat(Files.exists(env.dataDir().resolve("machines").resolve(id))).as("machine directory removed")
                .isFalse();
    }
}
