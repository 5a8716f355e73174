package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.wire.DeployStrategy;
import dev.bolero.api.wire.Fleet;
import dev.bolero.api.wire.FleetStrategy;
import dev.bolero.api.wire.Release;
import dev.bolero.core.MachineSpec;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code bolero deploy} and {@code bolero rollback}: flags parsed into the API's deployment body. */
class DeployFlagsTest {
    private static <T> T parse(Class<T> verb, String... args) {
        var parsed = new CommandLine(Main.class).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args);
        return verb.cast(parsed.subcommand().commandSpec().userObject());
    }

    private static Release release(long version, boolean current) {
        return new Release(version, MachineSpec.builder("app:" + version).overlay(), Instant.EPOCH, current);
    }

    @Test
    void deployPutsTheFlagsOverTheFleetsConfigAndTakesThePolicy() {
        var current = new Fleet("default", "web", FleetStrategy.BINPACK, null, Map.of(),
                MachineSpec.builder("app:1").guest(1, 256).env(Map.of("A", "1", "B", "2")).overlay(), 4, 0,
                Instant.EPOCH, Instant.EPOCH, 3, null, List.of());
        var spec = parse(DeployCommands.Deploy.class, "deploy", "web", "--image", "app:2", "-e", "B=3",
                "--strategy", "canary", "--max-unavailable", "2", "--wait-timeout", "60").spec(current);
        assertThat(spec.version()).isNull();
        assertThat(spec.config().image().value()).isEqualTo("app:2");
        assertThat(spec.config().env()).isEqualTo(Map.of("A", "1", "B", "3"));
        assertThat(spec.config().guest()).isEqualTo(new MachineSpec.Guest(1, 256, null));
        assertThat(spec.policy().strategy()).isEqualTo(DeployStrategy.CANARY);
        assertThat(spec.policy().maxUnavailable()).isEqualTo(2);
        assertThat(spec.policy().waitTimeoutS()).isEqualTo(60);

        var defaults = parse(DeployCommands.Deploy.class, "deploy", "web", "--image", "app:2").spec(current).policy();
        assertThat(defaults.strategy()).isEqualTo(DeployStrategy.ROLLING);
        assertThat(defaults.maxUnavailable()).isEqualTo(1);
    }

    @Test
    void rollbackGoesToTheNewestReleaseBeforeTheCurrentOne() {
        var rollback = parse(DeployCommands.Rollback.class, "rollback", "web");
        // After a rollback to 2, release 3 is newer than the current one: the one before 2 is 1.
        assertThat(rollback.previous(List.of(release(3, false), release(2, true), release(1, false)))).isEqualTo(1);
        assertThat(rollback.previous(List.of(release(2, true), release(1, false)))).isEqualTo(1);
        assertThatThrownBy(() -> rollback.previous(List.of(release(1, true))))
                .hasMessageContaining("release 1 is its first");
    }
}
