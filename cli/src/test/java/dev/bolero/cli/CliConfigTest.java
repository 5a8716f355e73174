package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliConfigTest {
    @TempDir
    Path dir;

    private static final CliConfig.Context LOCAL = new CliConfig.Context("http://127.0.0.1:1", "first-token",
            "default");
    private static final CliConfig.Context PROD = new CliConfig.Context("https://prod:7080", "prod-token", "web");

    @Test
    void theConfigHoldsTokensAndIsReadableByItsOwnerOnlyAfterEveryWrite() throws Exception {
        Path file = dir.resolve("bolero").resolve("config.json");
        new CliConfig(null, Map.of()).with("local", LOCAL, true).store(file);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        CliConfig.load(file).orElseThrow().with("prod", PROD, false).store(file);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(Files.readString(file)).contains("first-token", "prod-token");
    }

    @Test
    void contextsAreAddedSwitchedAndRemovedAndTheCurrentOneIsUsedWithoutAName() {
        var config = new CliConfig(null, Map.of()).with("local", LOCAL, false).with("prod", PROD, false);
        assertThat(config.current()).as("the first context added becomes current").isEqualTo("local");
        assertThat(config.context(null)).contains(LOCAL);
        assertThat(config.use("prod").context(null)).contains(PROD);
        assertThat(config.context("prod")).contains(PROD);
        assertThatThrownBy(() -> config.context("staging")).hasMessageContaining("no context 'staging'");
        assertThatThrownBy(() -> config.use("staging")).hasMessageContaining("no context 'staging'");
        var without = config.without("local");
        assertThat(without.current()).isNull();
        assertThat(without.context(null)).isEmpty();
        assertThatThrownBy(() -> without.without("local")).hasMessageContaining("no context 'local' to remove");
    }

    @Test
    void aFileOfAnOlderCliIsItsDefaultContext() throws Exception {
        Path file = dir.resolve("config.json");
        Files.writeString(file, "{\"server\":\"http://127.0.0.1:9\",\"token\":\"t\",\"namespace\":\"alpha\"}");
        var config = CliConfig.load(file).orElseThrow();
        assertThat(config.current()).isEqualTo("default");
        assertThat(config.context(null)).contains(new CliConfig.Context("http://127.0.0.1:9", "t", "alpha"));
    }
}
