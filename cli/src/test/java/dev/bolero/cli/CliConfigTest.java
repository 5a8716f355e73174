package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliConfigTest {
    @TempDir
    Path dir;

    @Test
    void theConfigHoldsATokenAndIsReadableByItsOwnerOnlyAfterEveryWrite() throws Exception {
        Path file = dir.resolve("bolero").resolve("config.json");
        Files.createDirectories(file.getParent());
        new CliConfig("http://127.0.0.1:1", "first-token", "default").store(file);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        new CliConfig("http://127.0.0.1:2", "second-token", "alpha").store(file);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(Files.readString(file)).contains("second-token");
    }
}
