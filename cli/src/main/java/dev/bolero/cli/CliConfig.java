package dev.bolero.cli;

import dev.bolero.api.ApiJson;
import dev.bolero.api.PrivateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The CLI's defaults in {@code ~/.config/bolero/config.json} (mode 0600): the server URL, its token, the namespace.
 * Flags win over {@code BOLERO_SERVER}/{@code BOLERO_TOKEN}/{@code BOLERO_NAMESPACE}, which win over this file.
 */
record CliConfig(String server, String token, String namespace) {
    static Path file() {
        String xdg = System.getenv("XDG_CONFIG_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config");
        return base.resolve("bolero").resolve("config.json");
    }

    static Optional<CliConfig> load() {
        Path file = file();
        if (!Files.exists(file)) return Optional.empty();
        try {
            return Optional.of(ApiJson.mapper().readValue(Files.readString(file), CliConfig.class));
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("read " + file + ": " + e.getMessage(), e);
        }
    }

    void store() {
        store(file());
    }

    /** Writes the config to {@code file}, readable by its owner only ({@code 0600}): it holds a token. */
    void store(Path file) {
        Path tmp = file.resolveSibling("config.json.tmp");
        try {
            Files.createDirectories(file.getParent());
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PrivateFiles.fileAttribute());
            Files.writeString(tmp, ApiJson.mapper().writeValueAsString(this));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("write " + file + ": " + e.getMessage(), e);
        }
    }
}
