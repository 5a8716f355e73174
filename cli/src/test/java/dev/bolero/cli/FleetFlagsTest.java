package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.wire.Fleet;
import dev.bolero.api.wire.FleetRegion;
import dev.bolero.api.wire.FleetScale;
import dev.bolero.api.wire.FleetStrategy;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import dev.bolero.core.MachineSpec;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code bolero fleets create|update} and {@code bolero run} share the machine flags; parsed into the API's records. */
class FleetFlagsTest {
    /** The verb {@code args} name, parsed as {@code bolero} parses it. */
    private static <T> T parse(Class<T> verb, String... args) {
        var parsed = new CommandLine(Main.class).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args);
        return verb.cast(parsed.subcommand().commandSpec().userObject());
    }

    @Test
    void fleetsCreateTakesTheRunFlagsAsTheFleetsConfig() {
        var spec = parse(ClusterCommands.Fleets.class, "fleets", "create", "web", "--image", "app:1", "-e", "A=1", "-e", "B=2",
                "-p", "8080:80", "--cpus", "2", "--memory", "512", "--restart", "always:3", "--strategy", "binpack")
                .createSpec();
        assertThat(spec.name()).isEqualTo("web");
        assertThat(spec.strategy()).isEqualTo(FleetStrategy.BINPACK);
        assertThat(spec.config()).isEqualTo(MachineSpec.builder("app:1").guest(new MachineSpec.Guest(2, 512, null))
                .env(Map.of("A", "1", "B", "2")).restart(new MachineSpec.Restart("always", 3))
                .services(List.of(new MachineSpec.Service("tcp", 80, 8080))).overlay());
    }

    @Test
    void fleetsUpdateChangesOnlyTheFlagsGivenAndMergesEnvKeyByKey() {
        var current = new Fleet("default", "web", FleetStrategy.BINPACK, "eu", Map.of("disk", "ssd"),
                MachineSpec.builder("app:1").guest(2, 512).env(Map.of("A", "1", "B", "2")).overlay(), 1, 0,
                Instant.EPOCH, Instant.EPOCH, 3, null, List.of());
        var spec = parse(ClusterCommands.Fleets.class, "fleets", "update", "web", "--image", "app:2", "-e", "B=3")
                .updateSpec(current);
        assertThat(spec.strategy()).isEqualTo(FleetStrategy.BINPACK);
        assertThat(spec.region()).isEqualTo("eu");
        assertThat(spec.count()).as("the count stays unless --count is given").isEqualTo(3);
        assertThat(spec.nodeLabels()).isEqualTo(Map.of("disk", "ssd"));
        assertThat(spec.config().image().value()).isEqualTo("app:2");
        assertThat(spec.config().guest()).isEqualTo(new MachineSpec.Guest(2, 512, null));
        assertThat(spec.config().env()).isEqualTo(Map.of("A", "1", "B", "3"));
    }

    /** Fleet web keeping {@code count} machines in all, or {@code counts} per region. */
    private static Fleet sized(Integer count, Map<String, Integer> counts) {
        return new Fleet("default", "web", FleetStrategy.SPREAD, null, Map.of(), MachineSpec.builder("app:1").overlay(),
                1, 0, Instant.EPOCH, Instant.EPOCH, count, counts, List.of());
    }

    private static FleetScale scale(Fleet current, String... args) {
        return parse(ClusterCommands.Scale.class, args).scale(current.scale());
    }

    @Test
    void scaleTakesOneCountACountPerRegionOrOneCountForEachRegionOfRegion() {
        var one = sized(3, null);
        var perRegion = sized(null, Map.of("ams", 2, "ord", 1));

        assertThat(scale(perRegion, "scale", "web", "4")).isEqualTo(new FleetScale.Total(4));
        assertThat(scale(one, "scale", "web", "ams=2", "ord=1"))
                .isEqualTo(new FleetScale.PerRegion(new TreeMap<>(Map.of("ams", 2, "ord", 1))));
        assertThat(scale(perRegion, "scale", "web", "ord=0", "syd=1")).as("regions not named keep their counts")
                .isEqualTo(new FleetScale.PerRegion(new TreeMap<>(Map.of("ams", 2, "ord", 0, "syd", 1))));
        assertThat(scale(one, "scale", "web", "3", "--region", "ams,ord"))
                .isEqualTo(new FleetScale.PerRegion(new TreeMap<>(Map.of("ams", 3, "ord", 3))));
        assertThat(scale(perRegion, "scale", "web", "5", "--region", "ord"))
                .isEqualTo(new FleetScale.PerRegion(new TreeMap<>(Map.of("ams", 2, "ord", 5))));
        assertThat(one.spec().withScale(Optional.of(scale(one, "scale", "web", "ams=1"))))
                .satisfies(s -> {
                    assertThat(s.count()).as("counts replace count").isNull();
                    assertThat(s.counts()).isEqualTo(Map.of("ams", 1));
                });

        assertThatThrownBy(() -> scale(one, "scale", "web", "3", "ams=1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("scale web: give one COUNT, or REGION=COUNT per region");
        assertThatThrownBy(() -> scale(one, "scale", "web", "ams=-1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("scale web: a count must be a whole number from 0, got '-1'");
        assertThatThrownBy(() -> scale(one, "scale", "web", "ams=1", "--region", "ord"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("scale web: --region goes with one COUNT, not with REGION=COUNT");
    }

    @Test
    void aFleetShowsEachRegionsCountAndMachinesInTheFormScaleTakes() {
        var perRegion = sized(null, Map.of("ams", 2, "ord", 1)).withRegions(List.of(
                new FleetRegion("ams", 2, 2, 2, null), new FleetRegion("ord", 1, 0, 0, "no nodes in region ord"),
                new FleetRegion(null, 0, 1, 0, null)));
        assertThat(ClusterCommands.desired(perRegion.scale())).isEqualTo("ams=2 ord=1");
        assertThat(ClusterCommands.actual(perRegion)).isEqualTo("ams=2 ord=0 (none)=1");

        var one = sized(3, null).withRegions(List.of(new FleetRegion(null, 3, 2, 1, null)));
        assertThat(ClusterCommands.desired(one.scale())).isEqualTo("3");
        assertThat(ClusterCommands.actual(one)).isEqualTo("2");
        assertThat(ClusterCommands.desired(Optional.empty())).isNull();
    }

    @Test
    void runWithoutAnImageLeavesItToTheFleetAndAFlagOverridesTheFleetsField() {
        var bare = parse(ClusterCommands.Run.class, "run", "--fleet", "web", "--name", "w1").spec();
        assertThat(bare.config().image()).isNull();
        assertThat(bare.name()).isEqualTo("w1");
        assertThat(bare.startNow()).isTrue();
        assertThat(bare.config().guest()).isNull();
        assertThat(bare.config().restart()).as("absent, so the fleet's or the cluster's default applies").isNull();

        var flagged = parse(ClusterCommands.Run.class, "run", "app:9", "--memory", "1024", "-e", "X=1", "--rm",
                "--metadata", "team=web", "--metadata", "tier=canary", "--warm-start").spec();
        assertThat(flagged.config().image().value()).isEqualTo("app:9");
        assertThat(flagged.config().guest()).isEqualTo(new MachineSpec.Guest(null, 1024, null));
        assertThat(flagged.config().env()).isEqualTo(Map.of("X", "1"));
        assertThat(flagged.config().autoDestroy()).isTrue();
        assertThat(flagged.config().warmStart()).isTrue();
        assertThat(bare.config().warmStart()).as("absent, so the fleet's applies").isNull();
        assertThat(flagged.config().metadata()).isEqualTo(Map.of("team", "web", "tier", "canary"));
        assertThat(bare.config().metadata()).as("absent, so the fleet's applies").isNull();
    }

    @Test
    void aBadFlagValueIsAUsageErrorNamingIt() {
        assertThatThrownBy(() -> parse(ClusterCommands.Fleets.class, "fleets", "create", "web", "-p", "80").createSpec())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-p 80");
    }
}
