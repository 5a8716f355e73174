package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.wire.SecretValue;
import dev.bolero.server.secrets.MasterKeys;
import dev.bolero.server.secrets.Secrets;
import dev.bolero.server.secrets.SecretsException;
import dev.bolero.server.store.ServerStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secrets through a real server (SQLite): write-only, per namespace, versioned, and never in clear in the database,
 * its WAL or any answer.
 */
class SecretsApiTest {
    private static final String ADMIN = ClusterSuite.ADMIN;
    private static final String SECRETS = "/v1/namespaces/alpha/secrets";

    @TempDir
    static Path dataDir;
    static Server server;
    static Http http;
    static String betaToken;

    @BeforeAll
    static void start() {
        server = Server.start(ClusterSuite.config(dataDir, Optional.empty()));
        http = new Http(server.port());
        for (String ns : List.of("alpha", "beta")) {
            assertThat(http.post("/v1/namespaces", ADMIN, Map.of("name", ns)).status()).isEqualTo(201);
        }
        betaToken = http.post("/v1/namespaces/beta/tokens", ADMIN, null).json().path("token").asString();
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    private static String marker() {
        return "marker-" + UUID.randomUUID();
    }

    @Test
    void aSecretIsWriteOnlyVersionedAndNeverStoredOrShownInClear() throws Exception {
        String first = marker();
        String second = marker();

        var created = http.post(SECRETS, ADMIN, Map.of("name", "DB_PASSWORD", "value", first));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        assertThat(created.json().path("version").asLong()).isEqualTo(1);
        assertThat(created.json().path("digest").asString()).startsWith("hmac-sha256:");
        assertThat(created.json().has("value")).isFalse();
        assertThat(http.post(SECRETS, ADMIN, Map.of("name", "DB_PASSWORD", "value", "x")).errorCode())
                .isEqualTo("conflict");
        var updated = http.put(SECRETS + "/DB_PASSWORD", ADMIN, Map.of("value", second));
        assertThat(updated.json().path("version").asLong()).isEqualTo(2);
        assertThat(updated.json().path("digest").asString()).isNotEqualTo(created.json().path("digest").asString());
        var listed = http.get(SECRETS, ADMIN);
        assertThat(listed.json()).hasSize(1);
        assertThat(http.get(SECRETS + "/DB_PASSWORD", ADMIN).json().path("version").asLong()).isEqualTo(2);
        for (var answer : List.of(created, updated, listed)) {
            assertThat(answer.body()).doesNotContain(first, second);
        }

        server.close(); // checkpoint nothing: the WAL is read as it is left, as a thief would find it
        server = Server.start(ClusterSuite.config(dataDir, Optional.empty()));
        http = new Http(server.port());
        try (Stream<Path> files = Files.list(dataDir)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                String bytes = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
                assertThat(bytes).as("%s", file.getFileName()).doesNotContain(first, second);
            }
        }
        assertThat(http.get(SECRETS + "/DB_PASSWORD", ADMIN).json().path("version").asLong())
                .as("kept across a restart, under the same master key file").isEqualTo(2);
    }

    @Test
    void aNamespaceSeesOnlyItsOwnSecrets() {
        assertThat(http.put(SECRETS + "/TOKEN", ADMIN, Map.of("value", marker())).status()).isEqualTo(200);

        assertThat(http.get(SECRETS, betaToken).errorCode()).isEqualTo("not_found");
        assertThat(http.get(SECRETS + "/TOKEN", betaToken).errorCode()).isEqualTo("not_found");
        assertThat(http.get("/v1/namespaces/beta/secrets", betaToken).json()).isEmpty();
        assertThat(http.get("/v1/namespaces/beta/secrets/TOKEN", betaToken).errorCode()).isEqualTo("not_found");
    }

    @Test
    void badNamesAndValuesAreRefusedNamingTheField() {
        var badName = http.post(SECRETS, ADMIN, Map.of("name", "1abc", "value", "v"));
        assertThat(badName.errorCode()).isEqualTo("invalid_argument");
        assertThat(badName.body()).contains("name must be 1-128 of A-Z a-z 0-9 _ . - starting with a letter or _");
        assertThat(http.post(SECRETS, ADMIN, Map.of("name", "EMPTY", "value", "")).body())
                .contains("value must be 1 to 65536 bytes, got 0");
        assertThat(http.put(SECRETS + "/BIG", ADMIN, Map.of("value", "x".repeat(SecretValue.MAX_VALUE_BYTES + 1)))
                .errorCode()).isEqualTo("invalid_argument");
        assertThat(http.put(SECRETS + "/A", ADMIN, Map.of("name", "B", "value", "v")).body())
                .contains("the body names 'B', the path 'A'");
        assertThat(http.post(SECRETS, ADMIN, Map.of("value", "v")).body()).contains("name is required");
        assertThat(http.delete(SECRETS + "/NOPE", ADMIN).errorCode()).isEqualTo("not_found");
    }

    @Test
    void aMasterKeyRotationRewrapsDataKeysAndTheOldKeyCanThenGo(@TempDir Path dir) {
        String oldKey = MasterKeys.generate();
        String newKey = MasterKeys.generate();
        try (var store = ServerStore.sqlite(dir.resolve("server.db"))) {
            store.write("namespace", tx -> {
                tx.namespaces().insert("alpha", Clock.systemUTC().instant());
                return null;
            });
            new Secrets(store, Clock.systemUTC(), MasterKeys.of(oldKey, List.of()))
                    .put("alpha", "API_KEY", new SecretValue(null, "v1"));

            var rotated = new Secrets(store, Clock.systemUTC(), MasterKeys.of(newKey, List.of(oldKey)));
            assertThat(rotated.rewrapAll()).isEqualTo(1);
            assertThat(rotated.rewrapAll()).as("nothing left to re-wrap").isZero();

            var newOnly = new Secrets(store, Clock.systemUTC(), MasterKeys.of(newKey, List.of()));
            assertThat(newOnly.put("alpha", "API_KEY", new SecretValue(null, "v2")).version()).isEqualTo(2);
            var stranger = new Secrets(store, Clock.systemUTC(), MasterKeys.of(MasterKeys.generate(), List.of()));
            org.assertj.core.api.Assertions.assertThatThrownBy(
                    () -> stranger.put("alpha", "API_KEY", new SecretValue(null, "v3")))
                    .hasRootCauseInstanceOf(SecretsException.class);
        }
    }
}
