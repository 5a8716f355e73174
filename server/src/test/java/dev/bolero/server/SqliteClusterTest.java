package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The cluster suite on the embedded SQLite store. */
class SqliteClusterTest extends ClusterSuite {
    @Override
    Optional<String> database() {
        return Optional.empty();
    }

    @Test
    void aFirstStartWithoutTokensWritesThemToPrivateFilesAndARestartKeepsThem() throws Exception {
        var dir = dataDir.resolve("fresh");
        var config = ServerConfig.of("127.0.0.1", 0, dir);
        String admin;
        try (var fresh = Server.start(config)) {
            var file = fresh.adminTokenFile().orElseThrow();
            assertThat(file).isEqualTo(dir.resolve("admin.token"));
            assertThat(fresh.joinTokenFile()).contains(dir.resolve("join.token"));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
            admin = Files.readString(file).strip();
            var http = new Http(fresh.port());
            assertThat(http.post("/v1/namespaces", admin, Map.of("name", "alpha")).status()).isEqualTo(201);
            assertThat(Files.readString(dir.resolve("server.db"), java.nio.charset.StandardCharsets.ISO_8859_1))
                    .doesNotContain(admin);
        }
        try (var again = Server.start(config)) {
            assertThat(Files.readString(dir.resolve("admin.token")).strip()).isEqualTo(admin);
            assertThat(new Http(again.port()).get("/v1/namespaces/alpha", admin).status()).isEqualTo(200);
        }
    }
}
