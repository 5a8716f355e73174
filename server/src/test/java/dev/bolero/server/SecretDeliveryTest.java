package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * A machine config's secrets through a real server (SQLite) and a fake node: names that do not exist fail the create
 * and fleet writes with a 400 naming them, and a node's assignments carry the current values of its machines'
 * secrets — only of those — while the public API shows names and targets only.
 */
class SecretDeliveryTest {
    private static final String ADMIN = ClusterSuite.ADMIN;
    private static final String NS = "/v1/namespaces/alpha";

    @TempDir
    Path dataDir;
    private Server server;
    private Http http;
    private FakeAgent node;

    @BeforeEach
    void start() {
        server = Server.start(ClusterSuite.config(dataDir, Optional.empty()));
        http = new Http(server.port());
        assertThat(http.post("/v1/namespaces", ADMIN, Map.of("name", "alpha")).status()).isEqualTo(201);
        assertThat(http.post(NS + "/fleets", ADMIN, Map.of("name", "web")).status()).isEqualTo(201);
        node = FakeAgent.join(server.port(), ClusterSuite.JOIN, "node-1");
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (node != null) node.close();
        if (server != null) server.close();
    }

    private static Map<String, Object> config(List<Map<String, String>> secrets) {
        return Map.of("image", "busybox", "secrets", secrets);
    }

    private static final List<Map<String, String>> BOTH = List.of(
            Map.of("name", "DB_PASSWORD", "env", "DB_PASSWORD"), Map.of("name", "tls_key", "path", "/run/secrets/tls.key"));

    @Test
    void aConfigNamingAMissingSecretFailsTheCreateAndTheFleetWritesWithA400NamingIt() {
        http.post(NS + "/secrets", ADMIN, Map.of("name", "DB_PASSWORD", "value", "v"));
        var create = http.post(NS + "/fleets/web/machines", ADMIN, Map.of("name", "m1", "config", config(BOTH)));
        assertThat(create.status()).as("%s", create).isEqualTo(400);
        assertThat(create.errorCode()).isEqualTo("invalid_argument");
        assertThat(create.json().path("error").path("message").asString()).isEqualTo("create machine m1 in alpha/web: "
                + "config.secrets[1].name names no secret of namespace alpha: 'tls_key'");

        var fleet = http.post(NS + "/fleets", ADMIN, Map.of("name", "api", "config", config(BOTH)));
        assertThat(fleet.status()).as("%s", fleet).isEqualTo(400);
        assertThat(fleet.json().path("error").path("message").asString())
                .isEqualTo("create fleet alpha/api: config.secrets[1].name names no secret of namespace alpha: 'tls_key'");
        var update = http.put(NS + "/fleets/web", ADMIN, Map.of("config", config(BOTH)));
        assertThat(update.status()).as("%s", update).isEqualTo(400);
        assertThat(update.json().path("error").path("message").asString())
                .startsWith("update fleet alpha/web: config.secrets[1].name names no secret");

        var malformed = http.post(NS + "/fleets/web/machines", ADMIN, Map.of("config",
                config(List.of(Map.of("name", "DB_PASSWORD", "env", "DB_PASSWORD", "path", "/run/x")))));
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(malformed.json().path("error").path("message").asString())
                .contains("config.secrets[0] must set exactly one of env and path");
        assertThat(http.get(NS + "/machines", ADMIN).json().size()).as("nothing was created").isZero();
    }

    @Test
    void aNodeGetsTheCurrentValuesOfItsMachinesSecretsOnlyAndTheApiShowsNamesAndTargets() {
        String password = "pw-" + UUID.randomUUID();
        String key = "key-" + UUID.randomUUID();
        String unused = "unused-" + UUID.randomUUID();
        http.post(NS + "/secrets", ADMIN, Map.of("name", "DB_PASSWORD", "value", password));
        http.post(NS + "/secrets", ADMIN, Map.of("name", "tls_key", "value", key));
        http.post(NS + "/secrets", ADMIN, Map.of("name", "unused", "value", unused));
        var fleet = http.put(NS + "/fleets/web", ADMIN, Map.of("config", config(BOTH)));
        assertThat(fleet.status()).as("%s", fleet).isEqualTo(200);

        var created = http.post(NS + "/fleets/web/machines", ADMIN, Map.of("name", "m1"));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        var plain = http.post(NS + "/fleets/web/machines", ADMIN, Map.of("name", "m2", "config",
                Map.of("secrets", List.of())));
        assertThat(plain.status()).as("%s", plain).isEqualTo(201);
        String id = created.json().path("id").asString();
        var shown = http.get(NS + "/machines/" + id, ADMIN);
        assertThat(shown.json().path("config").path("secrets").toString())
                .contains("\"name\":\"DB_PASSWORD\"", "\"env\":\"DB_PASSWORD\"", "\"path\":\"/run/secrets/tls.key\"");
        for (var answer : List.of(fleet, created, plain, shown, http.get(NS + "/machines", ADMIN))) {
            assertThat(answer.body()).doesNotContain(password, key, unused);
        }

        JsonNode assignments = node.poll(0);
        assertThat(secretsOf(assignments, id)).isEqualTo(Map.of("DB_PASSWORD", password, "tls_key", key));
        assertThat(secretsOf(assignments, plain.json().path("id").asString())).isEmpty();
        assertThat(assignments.toString()).doesNotContain(unused);

        String changed = "pw2-" + UUID.randomUUID();
        http.put(NS + "/secrets/DB_PASSWORD", ADMIN, Map.of("value", changed));
        http.delete(NS + "/secrets/tls_key", ADMIN);
        assertThat(secretsOf(node.poll(0), id)).as("the next answer carries the current values; a deleted one is missing")
                .isEqualTo(Map.of("DB_PASSWORD", changed));
    }

    private static Map<String, String> secretsOf(JsonNode assignments, String machineId) {
        for (JsonNode m : assignments.path("machines")) {
            if (!m.path("id").asString().equals(machineId)) continue;
            var values = new java.util.TreeMap<String, String>();
            m.path("secrets").forEach(s -> values.put(s.path("name").asString(), s.path("value").asString()));
            return values;
        }
        throw new AssertionError("machine " + machineId + " is not assigned: " + assignments);
    }
}
