package dev.bolero.agent.cluster;

import dev.bolero.api.ApiJson;
import dev.bolero.api.wire.JoinResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * {@code DATA_DIR/node.json}: the join answer (node id, credential, timing), mode 0600. An agent that has it never
 * joins again.
 */
final class NodeCredentials {
    private NodeCredentials() {}

    static Optional<JoinResponse> load(Path dataDir) {
        Path file = dataDir.resolve("node.json");
        if (!Files.exists(file)) return Optional.empty();
        try {
            return Optional.of(ApiJson.mapper().readValue(Files.readString(file), JoinResponse.class));
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("read node credential " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes the file atomically, readable by the owner only from its first byte. */
    static void store(Path dataDir, JoinResponse joined) {
        Path file = dataDir.resolve("node.json");
        Path tmp = dataDir.resolve("node.json.tmp");
        try {
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, ApiJson.mapper().writeValueAsString(joined));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("store node credential " + file + ": " + e.getMessage(), e);
        }
    }
}
