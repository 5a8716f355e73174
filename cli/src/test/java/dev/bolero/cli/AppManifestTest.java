package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.wire.DeployStrategy;
import dev.bolero.api.wire.FleetStrategy;
import dev.bolero.core.MachineSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code bolero.toml}: read into the API's fleet spec and deploy policy, refused with the key's path and line. */
class AppManifestTest {
    static final String FULL = """
            # The web app.
            name = "web"
            count = 3
            region = "local"
            strategy = "spread"
            node_labels = { disk = "ssd" }

            [config]
            image = "registry.test/web:2"
            guest = { cpus = 2, memory_mb = 512 }
            restart = { policy = "always" }
            secrets = [{ name = "DB_PASSWORD", env = "DB_PASSWORD" }]

            [config.env]
            MODE = "production"
            GREETING = "hello # not a comment"

            [config.checks.http]
            type = "http"
            port = 8080
            path = "/health"
            interval_s = 5

            [config.http_service]
            internal_port = 8080
            force_https = true

            [[config.mounts]]
            volume = "data"
            path = "/data"

            [deploy]
            strategy = "canary"
            max_unavailable = 2
            wait_timeout_s = 120
            """;

    private static AppManifest parse(String toml) {
        return AppManifest.parse(toml, "bolero.toml");
    }

    @Test
    void aFullManifestIsTheFleetSpecAndDeployPolicyTheApiTakes() {
        var app = parse(FULL);

        var f = app.fleet();
        assertThat(f.name()).isEqualTo("web");
        assertThat(f.count()).isEqualTo(3);
        assertThat(f.region()).isEqualTo("local");
        assertThat(f.strategy()).isEqualTo(FleetStrategy.SPREAD);
        assertThat(f.nodeLabels()).isEqualTo(Map.of("disk", "ssd"));
        assertThat(f.config()).isEqualTo(MachineSpec.builder("registry.test/web:2").guest(2, 512)
                .restart(new MachineSpec.Restart("always", null))
                .env(Map.of("MODE", "production", "GREETING", "hello # not a comment"))
                .check("http", new MachineSpec.Check(MachineSpec.Check.Type.HTTP, 8080, "/health", null, null, null,
                        5, null, null))
                .secret(MachineSpec.Secret.env("DB_PASSWORD", "DB_PASSWORD"))
                .mounts(List.of(new MachineSpec.Mount("data", "/data")))
                .httpService(new MachineSpec.HttpService(8080, true, null, null, null, null, null))
                .overlay());
        assertThat(app.deploy().strategy()).isEqualTo(DeployStrategy.CANARY);
        assertThat(app.deploy().maxUnavailable()).isEqualTo(2);
        assertThat(app.deploy().waitTimeoutS()).isEqualTo(120);
    }

    @Test
    void aMinimalManifestTakesTheDefaults() {
        var app = parse("""
                name = "api"
                count = 1
                [config]
                image = "busybox"
                """);

        assertThat(app.fleet().strategy()).isEqualTo(FleetStrategy.DEFAULT);
        assertThat(app.fleet().config()).isEqualTo(MachineSpec.builder("busybox").overlay());
        assertThat(app.deploy().strategy()).isEqualTo(DeployStrategy.ROLLING);
        assertThat(app.deploy().maxUnavailable()).isEqualTo(1);
    }

    /** {@link #FULL} with line {@code line} (from 1) replaced by {@code replacement}. */
    private static String fullWith(int line, String replacement) {
        var lines = new java.util.ArrayList<>(FULL.lines().toList());
        lines.set(line - 1, replacement);
        return String.join("\n", lines) + "\n";
    }

    @ParameterizedTest(name = "line {0} as [{1}]: {2}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "3 | cont = 3 | unknown field 'cont' (line 3)",
        "10 | guest = { cpus = 2, memory = 512 } | unknown field 'config.guest.memory' (line 10)",
        "22 | intervall_s = 5 | unknown field 'config.checks.http.intervall_s' (line 22)",
        "24 | [config.http] | unknown field 'config.http' (line 24)",
        "30 | size = \"/data\" | unknown field 'config.mounts[0].size' (line 30)",
        "35 | wait_s = 120 | unknown field 'deploy.wait_s' (line 35)",
        "3 | count = \"3\" | count must be an integer (line 3)",
        "11 | restart = { policy = \"sometimes\" } | config.restart.policy must be no, on-failure, always, got 'sometimes' (line 11)",
        "10 | guest = { cpus = 0, memory_mb = 512 } | config.guest.cpus must be between 1 and 64, got 0 (line 10)",
        "34 | max_unavailable = 0 | deploy.max_unavailable must be between 1 and 1000, got 0 (line 34)",
        "33 | strategy = \"sideways\" | deploy.strategy must be one of rolling, canary, bluegreen, immediate (line 33)",
        "6 | node_labels = { disk = 1 } | node_labels.disk must be a string (line 6)",
    })
    void aBadKeyOrValueIsRefusedNamingItsPathAndLine(int line, String replacement, String expected) {
        String toml = fullWith(line, replacement);
        assertThatThrownBy(() -> parse(toml)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("read bolero.toml: ").hasMessageContaining(expected);
    }

    @Test
    void aManifestKeepsACountPerRegionAndRefusesBothCountAndCountsNamingTheLine() {
        var app = parse("""
                name = "web"
                counts = { ams = 2, ord = 1 }
                [config]
                image = "busybox"
                """);
        assertThat(app.fleet().count()).isNull();
        assertThat(app.fleet().counts()).isEqualTo(Map.of("ams", 2, "ord", 1));

        assertThatThrownBy(() -> parse("name = \"web\"\ncount = 3\ncounts = { ams = 2 }\n[config]\nimage = \"a\"\n"))
                .hasMessageStartingWith("read bolero.toml: counts cannot be given with count")
                .hasMessageContaining("(line 3)");
        assertThatThrownBy(() -> parse("name = \"web\"\ncounts = { ams = -2 }\n[config]\nimage = \"a\"\n"))
                .hasMessageStartingWith("read bolero.toml: counts.ams must be between 0 and 1000, got -2");
    }

    @Test
    void requiredKeysAndMalformedTomlAreRefused() {
        assertThatThrownBy(() -> parse("count = 1\n[config]\nimage = \"a\"\n"))
                .hasMessage("read bolero.toml: name is required (the fleet's)");
        assertThatThrownBy(() -> parse("name = \"a\"\n[config]\nimage = \"a\"\n"))
                .hasMessageContaining("count or counts is required");
        assertThatThrownBy(() -> parse("name = \"a\"\ncount = 1\n")).hasMessageContaining("[config] is required");
        assertThatThrownBy(() -> parse("name = \"a\"\ncount = 1\n[config]\nenv = { A = \"1\" }\n"))
                .hasMessageContaining("config.image is required");
        assertThatThrownBy(() -> parse("name = \"a\"\ncount = 1\ncount = 2\n"))
                .hasMessageStartingWith("read bolero.toml: malformed TOML near line ").hasMessageContaining("Duplicate key");
        assertThatThrownBy(() -> parse("name = \"a\nb\"\n")).hasMessageStartingWith("read bolero.toml: malformed TOML");
    }

    @Test
    void aMissingFileIsAnErrorNamingIt(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> AppManifest.read(dir.resolve("bolero.toml")))
                .hasMessage("read " + dir.resolve("bolero.toml") + ": no such file");
        Files.writeString(dir.resolve("bolero.toml"), FULL);
        assertThat(AppManifest.read(dir.resolve("bolero.toml")).fleet().name()).isEqualTo("web");
    }

    @Test
    void linesAreFoundInTablesArraysOfTablesDottedKeysAndInlineTables() {
        String toml = """
                a = 1 # a = 2
                b.c = 2
                [t]
                x = { y = 1, z = 2 }
                [[arr]]
                k = 1
                [[arr]]
                k = 2
                """;
        assertThat(AppManifest.Lines.of(toml, "a")).hasValue(1);
        assertThat(AppManifest.Lines.of(toml, "b.c")).hasValue(2);
        assertThat(AppManifest.Lines.of(toml, "t")).hasValue(3);
        assertThat(AppManifest.Lines.of(toml, "t.x.z")).hasValue(4);
        assertThat(AppManifest.Lines.of(toml, "arr[1].k")).hasValue(8);
        assertThat(AppManifest.Lines.of(toml, "nothere")).isEmpty();
    }
}
