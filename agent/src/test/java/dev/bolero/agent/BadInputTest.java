package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

/** Bad requests get clear errors, the agent keeps serving, and failed pulls leave nothing behind. */
class BadInputTest {
    @RegisterExtension
    static final AgentFixture env = AgentFixture.withoutImage();

    @Test
    void malformed_json_is_a_400_naming_the_problem(AgentHarness node) {
        AgentHarness.Response r = node.post("/api/v1/machines", "{\"image\": ");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.errorCode()).isEqualTo("invalid_argument");
        assertThat(r.errorMessage()).startsWith("create machine: malformed JSON");
        assertServing();
    }

    @Test
    void unknown_fields_are_rejected_by_name_at_any_depth(AgentHarness node) {
        AgentHarness.Response top = node.post("/api/v1/machines", "{\"config\": {\"image\": \"x\"}, \"imagee\": 1}");
        assertThat(top.status()).isEqualTo(400);
        assertThat(top.errorMessage()).isEqualTo("create machine: unknown field 'imagee'");
        AgentHarness.Response nested = node.post("/api/v1/machines",
                "{\"config\": {\"image\": \"x\", \"guest\": {\"cpu\": 1}}}");
        assertThat(nested.status()).isEqualTo(400);
        assertThat(nested.errorMessage()).isEqualTo("create machine: unknown field 'config.guest.cpu'");
    }

    @Test
    void metadata_is_kept_and_shown_and_a_bad_key_is_refused_naming_it(AgentHarness node) {
        String id = node.create("{\"name\": \"labelled\", \"config\": {\"image\": \"x\", "
                + "\"metadata\": {\"team\": \"web\", \"tier\": \"canary\"}}}");
        var metadata = node.get("/api/v1/machines/" + id).json().path("config").path("metadata");
        assertThat(metadata.path("team").asString()).isEqualTo("web");
        assertThat(metadata.path("tier").asString()).isEqualTo("canary");
        assertThat(node.post("/api/v1/machines", "{\"config\": {\"image\": \"x\", \"metadata\": {\"A\": \"1\"}}}")
                .errorMessage()).isEqualTo("config.metadata key 'A' must be 1-63 of a-z 0-9 _ . -");
        assertThat(node.delete("/api/v1/machines/" + id).status()).isEqualTo(204);
    }

    @Test
    void a_missing_image_and_illegal_values_are_rejected(AgentHarness node) {
        assertThat(node.post("/api/v1/machines", "{}").errorMessage()).isEqualTo("config is required");
        assertThat(node.post("/api/v1/machines", "{\"config\": {}}").errorMessage())
                .isEqualTo("config.image is required");
        assertThat(node.post("/api/v1/machines", "{\"config\": {\"image\": \"x\", \"guest\": {\"cpus\": 0}}}")
                .errorMessage()).isEqualTo("config.guest.cpus must be between 1 and 64, got 0");
        assertThat(node.post("/api/v1/machines", "{\"config\": {\"image\": \"x\"}, \"name\": \"Bad Name\"}").status())
                .isEqualTo(400);
        assertThat(node.post("/api/v1/machines", "").errorMessage()).isEqualTo("create machine: the request body is empty");
        assertThat(node.post("/api/v1/machines", "[1]").status()).isEqualTo(400);
        assertThat(node.post("/api/v1/machines", "{\"config\": {\"image\": \"x\", \"driver\": \"xen\"}}")
                .errorMessage()).isEqualTo("unknown driver 'xen' (one of qemu, firecracker, cloud-hypervisor)");
        String other = node.get("/api/v1/node").json().path("driver").asString().equals("qemu") ? "firecracker" : "qemu";
        var refused = node.post("/api/v1/machines", "{\"name\": \"picky\", \"config\": {\"image\": \"x\", "
                + "\"driver\": \"" + other + "\"}}");
        assertThat(refused.errorCode()).isEqualTo("failed_precondition");
        assertThat(refused.errorMessage()).startsWith("create machine picky: it asks for driver " + other
                + ", and this node runs ");
        assertServing();
    }

    @Test
    void unknown_machines_and_routes_are_404_and_illegal_transitions_409(AgentHarness node) {
        AgentHarness.Response r = node.get("/api/v1/machines/nope");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.errorMessage()).isEqualTo("machine nope not found");
        assertThat(node.get("/api/v1/nothing-here").errorCode()).isEqualTo("not_found");

        String id = node.create("{\"config\": {\"image\": \"" + env.registry().host() + "/never/pulled:1\"}, "
                + "\"name\": \"idle\"}");
        AgentHarness.Response stop = node.post("/api/v1/machines/" + id + "/stop", "");
        assertThat(stop.status()).isEqualTo(409);
        assertThat(stop.errorMessage()).isEqualTo("stop machine " + id + ": it is created");
        assertThat(node.post("/api/v1/machines", "{\"config\": {\"image\": \"x\"}, \"name\": \"idle\"}").status()).isEqualTo(409);
        AgentHarness.Response wait = node.get("/api/v1/machines/" + id + "/wait?state=running&timeout_s=1");
        assertThat(wait.status()).isEqualTo(408);
        assertThat(node.get("/api/v1/machines/" + id + "/wait?state=bogus").status()).isEqualTo(400);
        assertThat(node.delete("/api/v1/machines/" + id).status()).isEqualTo(204);
    }

    @Test
    void an_image_that_does_not_exist_fails_the_machine_with_the_registry_message(AgentHarness node) {
        String ref = env.registry().host() + "/no/such-image:1";
        String id = node.create("{\"start\": true, \"config\": {\"image\": \"" + ref + "\"}}");
        JsonNode m = node.waitFor(id, "failed", 60);
        assertThat(m.path("error").asString()).startsWith("pull " + ref + ": ").contains("manifest unknown");
        assertNothingLeftFor(id);
        assertServing();
    }

    @Test
    void a_registry_that_is_down_fails_the_machine_naming_the_registry(AgentHarness node) throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String ref = "127.0.0.1:" + port + "/app:1";
        String id = node.create("{\"start\": true, \"config\": {\"image\": \"" + ref + "\"}}");
        JsonNode m = node.waitFor(id, "failed", 60);
        assertThat(m.path("error").asString()).startsWith("pull " + ref + ": ").contains("127.0.0.1:" + port);
        assertNothingLeftFor(id);
        assertServing();
    }

    private static void assertServing() {
        assertThat(env.node().get("/api/v1/machines").status()).isEqualTo(200);
    }

    /** A failed pull leaves no process, no drive and nothing in the machine's directory. */
    private static void assertNothingLeftFor(String id) {
        assertThat(AgentHarness.processesMentioning(id)).isEmpty();
        try (Stream<Path> files = Files.list(env.dataDir().resolve("machines").resolve(id))) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> !n.equals("workload.log")))
                    .isEmpty();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertThat(env.dataDir().resolve("images")).satisfiesAnyOf(
                p -> assertThat(p).doesNotExist(),
                p -> assertThat(p).isEmptyDirectory());
    }
}
