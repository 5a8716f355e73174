package dev.bolero.agent.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.ApiException;
import dev.bolero.api.wire.SecretValue;
import dev.bolero.core.Digest;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineSpec.Secret;
import dev.bolero.oci.ImageConfig;
import dev.bolero.oci.ImageReference;
import dev.bolero.oci.PreparedImage;
import dev.bolero.runtime.guest.GuestSecret;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SecretsHookTest {
    private static final MachineSpec SPEC = MachineSpec.builder("fake.test/app:1").env("MODE", "prod")
            .secret(Secret.env("db", "DB_PASSWORD")).secret(Secret.file("tls", "/run/secrets/tls.key"))
            .secret(Secret.file("db", "/etc/app/db")).build();

    private static Launch launch(String id, MachineSpec spec) {
        var launch = new Launch(MachineRecord.created(id, id, "alpha", spec, Instant.EPOCH), false);
        launch.image(new PreparedImage(ImageReference.parse("fake.test/app:1"), Digest.of("sha256", "a".repeat(64)),
                new ImageConfig(List.of(), List.of("app"), List.of("DB_PASSWORD=from-image"), "", ""),
                Path.of("/nonexistent/rootfs.ext4"), 1));
        return launch;
    }

    @Test
    void a_runs_guest_config_gets_the_values_the_control_plane_sent_as_variables_and_files() {
        var hook = new SecretsHook(Duration.ZERO);
        hook.put("m1", List.of(new SecretValue("db", "pw-1"), new SecretValue("tls", "key-1")));
        var launch = launch("m1", SPEC);
        hook.prepare(launch);
        var config = launch.guestConfig();
        assertThat(config.secrets()).containsExactly(new GuestSecret.Variable("DB_PASSWORD", "pw-1"),
                new GuestSecret.File("/run/secrets/tls.key", "key-1"), new GuestSecret.File("/etc/app/db", "pw-1"));
        assertThat(config.env()).contains("MODE=prod");
        assertThat(config.toString()).doesNotContain("pw-1", "key-1");
    }

    @Test
    void values_sent_again_replace_the_old_ones_and_a_deleted_machine_keeps_none() {
        var hook = new SecretsHook(Duration.ZERO);
        hook.put("m1", List.of(new SecretValue("db", "pw-1"), new SecretValue("tls", "key-1")));
        hook.put("m1", List.of(new SecretValue("db", "pw-2"), new SecretValue("tls", "key-2")));
        var launch = launch("m1", SPEC);
        hook.prepare(launch);
        assertThat(launch.guestConfig().secrets().getFirst().value()).isEqualTo("pw-2");

        hook.deleted("m1");
        assertThatThrownBy(() -> hook.prepare(launch("m1", SPEC))).isInstanceOf(ApiException.class);
    }

    @Test
    void a_missing_value_fails_the_start_naming_the_secret_and_never_showing_a_value() {
        var hook = new SecretsHook(Duration.ZERO);
        hook.put("m1", List.of(new SecretValue("db", "pw-1")));
        assertThatThrownBy(() -> hook.prepare(launch("m1", SPEC))).isInstanceOf(ApiException.class)
                .hasMessage("start machine m1: no value for secret tls came from the control plane (was it deleted? a "
                        + "machine created through a node's own API has no secrets)")
                .message().doesNotContain("pw-1");
    }

    @Test
    void a_run_prepared_before_the_values_come_waits_for_them() throws Exception {
        var hook = new SecretsHook(Duration.ofMinutes(1));
        var launch = launch("m1", SPEC);
        var preparing = Thread.ofVirtual().start(() -> hook.prepare(launch));
        hook.put("m1", List.of(new SecretValue("db", "pw-1"), new SecretValue("tls", "key-1")));
        preparing.join();
        assertThat(launch.guestConfig().secrets()).hasSize(3);
    }

    @Test
    void a_machine_without_secrets_needs_none() {
        var hook = new SecretsHook(Duration.ofMinutes(1));
        var launch = launch("m2", MachineSpec.builder("fake.test/app:1").build());
        hook.prepare(launch);
        assertThat(launch.guestConfig().secrets()).isEmpty();
    }
}
