package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

    @Test
    void theStoreItsJournalFilesAndTheTokenFilesAreReadableByTheOwnerOnly() throws Exception {
        var dir = dataDir.resolve("modes");
        Files.createDirectories(dir);
        // A store an older version made world-readable gets its mode fixed at start.
        Files.createFile(dir.resolve("server.db"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rw-r--r--")));
        try (var server = Server.start(ServerConfig.of("127.0.0.1", 0, dir))) {
            String admin = Files.readString(dir.resolve("admin.token")).strip();
            var http = new Http(server.port());
            assertThat(http.post("/v1/namespaces", admin, Map.of("name", "alpha")).status()).isEqualTo(201);
            assertThat(http.post("/v1/namespaces/alpha/fleets", admin, Map.of("name", "web", "config",
                    Map.of("image", "busybox", "env", Map.of("SECRET", "s3cr3t")))).status()).isEqualTo(201);
            var files = new java.util.TreeMap<String, String>();
            try (var listing = Files.list(dir)) {
                for (var file : listing.filter(Files::isRegularFile).toList()) {
                    files.put(file.getFileName().toString(),
                            PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
                }
            }
            assertThat(files).containsKeys("server.db", "server.db-wal", "server.db-shm", "admin.token", "join.token");
            assertThat(files).allSatisfy((name, mode) -> assertThat(mode).as(name).isEqualTo("rw-------"));
        }
    }

    @Test
    void aDamagedStoreIsRefusedAtStartNamingTheDamage() throws Exception {
        var dir = dataDir.resolve("damaged");
        var config = ServerConfig.of("127.0.0.1", 0, dir);
        try (var server = Server.start(config)) {
            var http = new Http(server.port());
            String admin = Files.readString(server.adminTokenFile().orElseThrow()).strip();
            for (int i = 0; i < 200; i++) {
                assertThat(http.post("/v1/namespaces", admin, Map.of("name", "ns" + i)).status()).isEqualTo(201);
            }
        }
        var file = dir.resolve("server.db");
        byte[] bytes = Files.readAllBytes(file);
        java.util.Arrays.fill(bytes, bytes.length - 4096, bytes.length - 1024, (byte) 0x5A); // the last page torn
        Files.write(file, bytes);
        assertThatThrownBy(() -> Server.start(config)).hasMessageContaining("the database " + file + " is damaged (");
        assertThat(Files.readAllBytes(file)).as("left as it was").isEqualTo(bytes);
    }
}
