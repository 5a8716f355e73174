package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.runtime.JailConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** {@code GET /api/v1/node} on a real agent: the driver in use and what every driver can do on this host. */
class NodeInfoTest {
    @TempDir Path dir;

    @Test
    void theNodeReportsItsDriverAndEveryDriversUsabilityAndCapabilities() {
        try (var agent = new AgentHarness(dir, Set.of())) {
            AgentHarness.Response r = agent.get("/api/v1/node");
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            JsonNode node = r.json();
            List<String> names = new ArrayList<>();
            for (JsonNode d : node.path("drivers")) {
                names.add(d.path("name").asString());
                assertThat(d.path("capabilities").has("snapshot")).isTrue();
                assertThat(d.path("capabilities").has("vsock")).isTrue();
                assertThat(d.path("capabilities").has("hotplug")).isTrue();
                if (!d.path("usable").asBoolean()) assertThat(d.path("reason").asString()).as(d.toString()).isNotBlank();
            }
            assertThat(names).containsExactly("firecracker", "cloud-hypervisor", "qemu");
            String used = node.path("driver").asString();
            JsonNode usedStatus = null;
            for (JsonNode d : node.path("drivers")) if (d.path("name").asString().equals(used)) usedStatus = d;
            assertThat(usedStatus).isNotNull();
            assertThat(usedStatus.path("usable").asBoolean()).isTrue();
            assertThat(node.path("accelerator").asString()).isIn("kvm", "tcg")
                    .isEqualTo(usedStatus.path("capabilities").path("accelerator").asString());
            assertThat(node.path("jailed").asBoolean()).isEqualTo(JailConfig.runningAsRoot());
            JsonNode kernel = node.path("kernel");
            assertThat(kernel.path("flavour").asString()).as(node.toString()).isIn("lean", "distro");
            assertThat(Path.of(kernel.path("image").asString())).as(node.toString()).isRegularFile();
        }
    }
}
