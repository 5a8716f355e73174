package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.TestImages;
import dev.bolero.oci.testing.TestRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * A guest that does not start its workload within the agent's boot deadline (1 s: no TCG boot is that fast) fails
 * with the reason {@code boot timeout}, its VMM is gone, and the agent keeps serving.
 */
class BootDeadlineEndToEndTest {
    @TempDir
    static Path dataDir;

    private static TestRegistry registry;
    private static AgentHarness node;
    private static String image;

    @BeforeAll
    static void setUp() throws Exception {
        registry = TestRegistry.start();
        image = TestImages.push(registry, "deadline/app:1", ImageSpec.cmd("sleep", "600"));
        node = new AgentHarness(dataDir, Set.of(), Optional.empty(), Duration.ofSeconds(1));
    }

    @AfterAll
    static void tearDown() {
        try {
            if (node != null) node.close();
        } finally {
            if (registry != null) registry.close();
        }
    }

    @Test
    void a_guest_that_misses_the_boot_deadline_fails_with_boot_timeout_and_leaves_nothing_running() {
        String id = node.create("{\"image\": \"%s\", \"start\": true}".formatted(image));
        JsonNode failed = node.waitFor(id, "failed", 240);
        assertThat(failed.path("exit_code").isMissingNode() || failed.path("exit_code").isNull())
                .as("no workload ran: %s", failed).isTrue();

        JsonNode events = node.get("/api/v1/machines/" + id + "/events").json();
        JsonNode last = events.get(events.size() - 1);
        assertThat(last.path("state").asString()).as(events.toString()).isEqualTo("failed");
        assertThat(last.path("reason").asString()).as(events.toString()).isEqualTo("boot timeout");
        assertThat(last.path("detail").asString()).as(events.toString())
                .isEqualTo("boot timeout: the guest did not start the workload within 1 s");
        assertThat(node.logs(id)).as("the workload never ran").isEmpty();
        assertThat(AgentHarness.processesMentioning(id)).as("the VMM is gone").isEmpty();

        assertThat(node.get("/api/v1/machines").status()).as("the agent keeps serving").isEqualTo(200);
        assertThat(node.delete("/api/v1/machines/" + id).status()).isBetween(200, 204);
        assertThat(node.get("/api/v1/machines/" + id).status()).isEqualTo(404);
        assertThat(Files.exists(dataDir.resolve("machines").resolve(id))).as("machine directory removed").isFalse();
    }
}
