package dev.bolero.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;

class MachineSpecTest {
    private static final JsonMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE).build();

    @Test
    void aSpecWithOnlyAnImageHasEveryDefault() {
        MachineSpec spec = MachineSpec.builder("busybox").build();

        assertThat(spec.image()).isEqualTo(ImageRef.of("busybox"));
        assertThat(spec.guest()).isEqualTo(new MachineSpec.Guest(1, 256, null));
        assertThat(spec.init()).isEqualTo(new MachineSpec.Init(null, null, null, null));
        assertThat(spec.env()).isEmpty();
        assertThat(spec.restart()).isEqualTo(new MachineSpec.Restart("no", null, true, 3));
        assertThat(spec.autoDestroy()).isFalse();
        assertThat(spec.stop()).isEqualTo(new MachineSpec.Stop("SIGTERM", 10));
        assertThat(spec.network().egressAllowed()).isTrue();
        assertThat(spec.services()).isEmpty();
        assertThat(spec.driver()).isNull();
        assertThat(spec.metadata()).isEmpty();
        assertThat(spec.checks()).isEmpty();
    }

    @Test
    void theBuilderSetsEachFieldAndFillsTheRestOfAPart() {
        MachineSpec spec = MachineSpec.builder("app:1").guest(new MachineSpec.Guest(2, null, 1024))
                .env("B", "2").env("A", "1").restart(new MachineSpec.Restart("on-failure", 3)).autoDestroy(true)
                .stop(new MachineSpec.Stop("SIGINT", null)).network(new MachineSpec.Network(false))
                .service(new MachineSpec.Service("tcp", 80, 8080)).driver(Driver.FIRECRACKER).build();

        assertThat(spec.guest()).isEqualTo(new MachineSpec.Guest(2, 256, 1024));
        assertThat(spec.env()).containsExactly(Map.entry("A", "1"), Map.entry("B", "2"));
        assertThat(spec.restart().restarts(true, 2)).isTrue();
        assertThat(spec.restart().restarts(true, 3)).isFalse();
        assertThat(spec.autoDestroy()).isTrue();
        assertThat(spec.stop()).isEqualTo(new MachineSpec.Stop("SIGINT", 10));
        assertThat(spec.stop().signalNumber()).isEqualTo(2);
        assertThat(spec.network().egressAllowed()).isFalse();
        assertThat(spec.services()).containsExactly(new MachineSpec.Service("tcp", 80, 8080));
        assertThat(spec.driver()).isEqualTo(Driver.FIRECRACKER);
        assertThat(spec.overlay().toSpec()).as("a spec survives the trip through its overlay").isEqualTo(spec);
    }

    static Stream<Arguments> illegalSpecs() {
        return Stream.of(
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder().build(),
                        "config.image is required"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x").guest(0, 256).build(),
                        "config.guest.cpus must be between 1 and 64, got 0"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x").guest(1, 63).build(),
                        "config.guest.memory_mb must be between 64 and 65536, got 63"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .guest(new MachineSpec.Guest(null, null, 8)).build(),
                        "config.guest.rootfs_mb must be between 64 and 1048576, got 8"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .init(new MachineSpec.Init(null, null, "relative", null)).build(),
                        "config.init.workdir must be an absolute path, got 'relative'"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x").env("X=Y", "1").build(),
                        "config.env name 'X=Y' is not a valid variable name"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .restart(new MachineSpec.Restart("sometimes", null)).build(),
                        "config.restart.policy must be no, on-failure, always, got 'sometimes'"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .stop(new MachineSpec.Stop(null, 4000)).build(),
                        "config.stop.timeout_s must be between 0 and 3600, got 4000"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .stop(new MachineSpec.Stop("SIGNOPE", null)).build(),
                        "config.stop.signal must be a signal name or number, got 'SIGNOPE'"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .service(new MachineSpec.Service("tcp", 80, 8080))
                                .service(new MachineSpec.Service("tcp", null, 8081)).build(),
                        "config.services[1].internal_port is required"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .service(new MachineSpec.Service("sctp", 80, 8080)).build(),
                        "config.services[0].protocol must be tcp, udp, got 'sctp'"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x").metadata("Team", "a").build(),
                        "config.metadata key 'Team' must be 1-63 of a-z 0-9 _ . -"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x").metadata("k".repeat(64), "a").build(),
                        "config.metadata key '" + "k".repeat(64) + "' must be 1-63 of a-z 0-9 _ . -"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x").metadata("team", "é".repeat(257))
                                .build(),
                        "config.metadata.team must be at most 512 bytes"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .service(new MachineSpec.Service("udp", 53, 53))
                                .service(new MachineSpec.Service("udp", 54, 53)).build(),
                        "config.services[1]: udp port 53 is published twice"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .check("web", new MachineSpec.Check(null, 80, null, null, null, null, null, null, null))
                                .build(),
                        "config.checks.web.type is required"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .check("web", MachineSpec.Check.http(0, "/health")).build(),
                        "config.checks.web.port must be between 1 and 65535, got 0"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .check("web", MachineSpec.Check.http(80, "health")).build(),
                        "config.checks.web.path must be an absolute path without spaces, got 'health'"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .check("web", new MachineSpec.Check(MachineSpec.Check.Type.HTTP, 80, "/", null,
                                        Map.of("X-Bad", "a\r\nInjected: 1"), null, null, null, null)).build(),
                        "config.checks.web.headers.X-Bad must be a string without CR, LF or NUL"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .check("db", new MachineSpec.Check(MachineSpec.Check.Type.TCP, 5432, "/", null, null,
                                        null, null, null, null)).build(),
                        "config.checks.db.path is only for http checks, not tcp"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .check("ps", new MachineSpec.Check(MachineSpec.Check.Type.EXEC, 80, null, null, null,
                                        List.of("true"), null, null, null)).build(),
                        "config.checks.ps.port is only for http and tcp checks, not exec"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .check("ps", MachineSpec.Check.exec()).build(),
                        "config.checks.ps.command must name a program"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .check("web", MachineSpec.Check.tcp(80).every(5, 6, null)).build(),
                        "config.checks.web.timeout_s must be at most interval_s (5), got 6"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .check("Web", MachineSpec.Check.tcp(80)).build(),
                        "config.checks key 'Web' must be 1-63 of a-z 0-9 _ . -"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x")
                                .restart(new MachineSpec.Restart("always", null, true, 0)).build(),
                        "config.restart.failures_before_restart must be between 1 and 100, got 0"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x").mount("data", "data").build(),
                        "config.mounts[0].path must be an absolute path, got 'data'"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x").mount("data", "/").build(),
                        "config.mounts[0].path must not be / (the root file system)"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x").mount("data", "/a/../etc")
                                .build(),
                        "config.mounts[0].path must be a normalised path (no empty, '.' or '..' segment), got "
                                + "'/a/../etc'"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x").mount("data", "/proc/x").build(),
                        "config.mounts[0].path must not be under /proc (the guest's own), got '/proc/x'"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x").mount("data", "/data")
                                .mount("logs", "/data").build(),
                        "config.mounts[1].path '/data' is mounted twice"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x").mount("data", "/data")
                                .mount("data", "/more").build(),
                        "config.mounts[1].volume 'data' is mounted twice"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x").mount("Data", "/data").build(),
                        "config.mounts[0].volume must be 1-63 of a-z 0-9 _ - starting with a letter or digit, got "
                                + "'Data'"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x").mount(null, "/data").build(),
                        "config.mounts[0].volume is required"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x").warmStart(true)
                                .secret(MachineSpec.Secret.env("db", "DB")).build(),
                        "config.warm_start cannot be true with secrets: a template's memory would hold them"),
                Arguments.of((Supplier<MachineSpec>) () -> MachineSpec.builder("x").warmStart(true)
                                .mount("data", "/data").build(),
                        "config.warm_start cannot be true with mounts: a template's memory would hold the state of "
                                + "volumes it cannot share"));
    }

    @Test
    void warmStartIsOffUnlessSetAndAnOverlaySetsItLikeAnyField() {
        assertThat(MachineSpec.builder("x").build().warmStart()).isFalse();
        var fleet = MachineSpec.builder("x").warmStart(true).overlay();
        assertThat(MachineSpec.builder().overlay().over(fleet).toSpec().warmStart()).isTrue();
        assertThat(MachineSpec.builder().warmStart(false).overlay().over(fleet).toSpec().warmStart()).isFalse();
    }

    @Test
    void mountsAreKeptInOrderAndAnOverlayReplacesThemWhole() {
        var base = MachineSpec.builder("x").mount("data", "/data").mount("logs", "/var/log/app").overlay();
        assertThat(base.toSpec().mounts()).containsExactly(new MachineSpec.Mount("data", "/data"),
                new MachineSpec.Mount("logs", "/var/log/app"));
        var top = MachineSpec.builder().mount("cache", "/cache").overlay();
        assertThat(top.over(base).toSpec().mounts()).containsExactly(new MachineSpec.Mount("cache", "/cache"));
        assertThat(MachineSpec.builder().overlay().over(base).toSpec().mounts()).hasSize(2);
        assertThat(MachineSpec.builder("x").build().mounts()).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("illegalSpecs")
    void anIllegalFieldIsRefusedNamingItsPath(Supplier<MachineSpec> spec, String message) {
        assertThatThrownBy(spec::get).isInstanceOf(ValidationException.class).hasMessage(message);
    }

    @Test
    void anOverlayIsCheckedForTheFieldsItSetsButNeedsNoImage() {
        assertThat(MachineSpec.builder().guest(2, 512).overlay().image()).isNull();
        assertThatThrownBy(() -> MachineSpec.builder().guest(65, 512).overlay())
                .hasMessage("config.guest.cpus must be between 1 and 64, got 65");
    }

    @Test
    void aFieldSetOnTopReplacesTheBasesWholeFieldButEnvMergesKeyByKey() {
        var fleet = MachineSpec.builder("web:1").guest(new MachineSpec.Guest(2, 1024, null)).env("A", "fleet")
                .env("B", "fleet").service(new MachineSpec.Service("tcp", 80, 8080)).metadata("team", "web")
                .metadata("tier", "fleet").overlay();
        var body = MachineSpec.builder().guest(new MachineSpec.Guest(4, null, null)).env("B", "body")
                .env("C", "body").metadata("tier", "canary").overlay();

        MachineSpec spec = body.over(fleet).toSpec();

        assertThat(spec.image().value()).isEqualTo("web:1");
        assertThat(spec.guest()).as("the body's guest replaces the fleet's whole: memory is the default")
                .isEqualTo(new MachineSpec.Guest(4, 256, null));
        assertThat(spec.env()).isEqualTo(Map.of("A", "fleet", "B", "body", "C", "body"));
        assertThat(spec.services()).containsExactly(new MachineSpec.Service("tcp", 80, 8080));
        assertThat(spec.metadata()).isEqualTo(Map.of("team", "web", "tier", "canary"));
    }

    @Test
    void theJsonFormIsSnakeCaseAndReadsBack() {
        MachineSpec spec = MachineSpec.builder("app:1").guest(2, 512).autoDestroy(true).driver(Driver.QEMU)
                .service(new MachineSpec.Service("tcp", 80, 8080)).metadata("team", "web").build();

        String json = JSON.writeValueAsString(spec);

        assertThat(json).contains("\"image\":\"app:1\"", "\"memory_mb\":512", "\"auto_destroy\":true",
                "\"driver\":\"qemu\"", "\"internal_port\":80", "\"timeout_s\":10", "\"metadata\":{\"team\":\"web\"}");
        assertThat(JSON.readValue(json, MachineSpec.class)).isEqualTo(spec);
        assertThat(JSON.readValue("{\"guest\":{\"cpus\":2}}", MachineSpec.Overlay.class))
                .isEqualTo(MachineSpec.builder().guest(new MachineSpec.Guest(2, null, null)).overlay());
    }

    @Test
    void checksTakeTheirTypesDefaultsAndReadBackFromSnakeCase() {
        MachineSpec spec = MachineSpec.builder("web:1").check("alive", MachineSpec.Check.tcp(8080))
                .check("health", MachineSpec.Check.http(8080, "/healthz").every(5, null, 30))
                .check("ps", MachineSpec.Check.exec("pgrep", "nginx")).build();

        assertThat(spec.checks().get("alive")).isEqualTo(new MachineSpec.Check(MachineSpec.Check.Type.TCP, 8080,
                null, null, null, null, 10, 2, 0));
        assertThat(spec.checks().get("health")).isEqualTo(new MachineSpec.Check(MachineSpec.Check.Type.HTTP, 8080,
                "/healthz", "GET", Map.of(), null, 5, 2, 30));
        assertThat(spec.checks().get("ps").command()).containsExactly("pgrep", "nginx");
        String json = JSON.writeValueAsString(spec);
        assertThat(json).contains("\"type\":\"http\"", "\"grace_period_s\":30", "\"interval_s\":5");
        assertThat(JSON.readValue(json, MachineSpec.class)).isEqualTo(spec);
        assertThat(spec.overlay().toSpec()).isEqualTo(spec);
    }

    @Test
    void checksAreReplacedWholeByAnOverlayThatSetsThem() {
        var fleet = MachineSpec.builder("web:1").check("a", MachineSpec.Check.tcp(80))
                .check("b", MachineSpec.Check.tcp(81)).overlay();

        assertThat(MachineSpec.builder().check("c", MachineSpec.Check.tcp(82)).overlay().over(fleet).toSpec()
                .checks()).containsOnlyKeys("c");
        assertThat(MachineSpec.builder().guest(2, 512).overlay().over(fleet).toSpec().checks())
                .containsOnlyKeys("a", "b");
    }

    @Test
    void aFailingCheckIsDueAtItsThresholdAndRestartsCountAgainstTheRetries() {
        MachineSpec.Restart never = MachineSpec.builder("x").build().restart();
        assertThat(never.onCheckFailure()).isTrue();
        assertThat(never.checkRestartDue(2)).isFalse();
        assertThat(never.checkRestartDue(3)).isTrue();
        assertThat(new MachineSpec.Restart("always", null, false, null).checkRestartDue(100)).isFalse();
        assertThat(new MachineSpec.Restart("always", 1, null, 1).withinRetries(0)).isTrue();
        assertThat(new MachineSpec.Restart("always", 1, null, 1).withinRetries(1)).isFalse();
    }

    @Test
    void valueTypesRefuseIllegalValues() {
        assertThatThrownBy(() -> ImageRef.of("has space")).isInstanceOf(ValidationException.class);
        assertThatThrownBy(() -> Driver.parse("xen")).hasMessage(
                "unknown driver 'xen' (one of qemu, firecracker, cloud-hypervisor)");
        assertThat(Driver.parse("cloud-hypervisor")).isEqualTo(Driver.CLOUD_HYPERVISOR);
        assertThat(MachineState.parse("running")).isEqualTo(MachineState.RUNNING);
        assertThat(NodeState.parse("draining").wireName()).isEqualTo("draining");
        assertThat(Digest.parse("sha256:" + "a".repeat(64)).hex()).isEqualTo("a".repeat(64));
        assertThatThrownBy(() -> Digest.parse("md5:00")).isInstanceOf(ValidationException.class);
        assertThat(List.of(new FieldPath("config").field("services").index(1).field("port").path()))
                .containsExactly("config.services[1].port");
    }
}
