package dev.bolero.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.core.MachineSpec.Secret;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class MachineSecretsTest {

    @Test
    void a_spec_lists_its_secrets_as_given_and_none_by_default() {
        var spec = MachineSpec.builder("app:1").secret(Secret.env("DB_PASSWORD", "DB_PASSWORD"))
                .secret(Secret.file("tls_key", "/run/secrets/tls.key")).build();
        assertThat(spec.secrets()).containsExactly(new Secret("DB_PASSWORD", "DB_PASSWORD", null),
                new Secret("tls_key", null, "/run/secrets/tls.key"));
        assertThat(MachineSpec.builder("app:1").build().secrets()).isEmpty();
    }

    @Test
    void an_overlays_secrets_replace_the_bases_whole_list() {
        var base = MachineSpec.builder("app:1").secret(Secret.env("a", "A")).secret(Secret.env("b", "B")).overlay();
        var top = MachineSpec.builder().secret(Secret.file("c", "/etc/app/c")).overlay();
        assertThat(top.over(base).toSpec().secrets()).containsExactly(Secret.file("c", "/etc/app/c"));
        assertThat(MachineSpec.Overlay.EMPTY.over(base).toSpec().secrets()).hasSize(2);
    }

    @Test
    void the_same_secret_may_be_given_as_a_variable_and_as_a_file() {
        var spec = MachineSpec.builder("app:1").secret(Secret.env("key", "KEY"))
                .secret(Secret.file("key", "/run/secrets/key")).build();
        assertThat(spec.secrets()).hasSize(2);
    }

    static Stream<Arguments> illegal() {
        return Stream.of(
                Arguments.of(List.of(new Secret(null, "A", null)),
                        "config.secrets[0].name must be 1-128 of A-Z a-z 0-9 _ . - starting with a letter or _, got 'null'"),
                Arguments.of(List.of(Secret.env("ok", "A"), Secret.env("9lives", "B")),
                        "config.secrets[1].name must be 1-128 of A-Z a-z 0-9 _ . - starting with a letter or _, got '9lives'"),
                Arguments.of(List.of(new Secret("a", "A", "/run/secrets/a")),
                        "config.secrets[0] must set exactly one of env and path"),
                Arguments.of(List.of(new Secret("a", null, null)),
                        "config.secrets[0] must set exactly one of env and path"),
                Arguments.of(List.of(Secret.env("a", "A-B")),
                        "config.secrets[0].env must be a variable name ([A-Za-z_][A-Za-z0-9_]*), got 'A-B'"),
                Arguments.of(List.of(Secret.env("a", "A"), Secret.file("b", "run/secrets/b")),
                        "config.secrets[1].path must be absolute, got 'run/secrets/b'"),
                Arguments.of(List.of(Secret.file("b", "/run/../etc/shadow")),
                        "config.secrets[0].path must be a normalised path (no empty, . or .. segments), got '/run/../etc/shadow'"),
                Arguments.of(List.of(Secret.file("b", "/run//b")),
                        "config.secrets[0].path must be a normalised path (no empty, . or .. segments), got '/run//b'"),
                Arguments.of(List.of(Secret.file("b", "/run/secrets/")),
                        "config.secrets[0].path must be a normalised path (no empty, . or .. segments), got '/run/secrets/'"),
                Arguments.of(List.of(Secret.file("b", "/key")),
                        "config.secrets[0].path must be inside a directory other than /, got '/key'"),
                Arguments.of(List.of(Secret.file("b", "/proc/self/b")),
                        "config.secrets[0].path must not be under /proc, got '/proc/self/b'"),
                Arguments.of(List.of(Secret.file("b", "/run/a=b")),
                        "config.secrets[0].path must not contain '=' or control characters"),
                Arguments.of(List.of(Secret.file("b", "/run/a\nb")),
                        "config.secrets[0].path must not contain '=' or control characters"),
                Arguments.of(List.of(Secret.env("a", "A"), Secret.env("b", "A")),
                        "config.secrets[1] gives env A a second time"),
                Arguments.of(List.of(Secret.file("a", "/run/s/k"), Secret.env("b", "B"), Secret.file("c", "/run/s/k")),
                        "config.secrets[2] gives path /run/s/k a second time"));
    }

    @ParameterizedTest
    @MethodSource("illegal")
    void an_illegal_secret_is_refused_naming_its_field(List<Secret> secrets, String message) {
        assertThatThrownBy(() -> MachineSpec.builder("app:1").secrets(secrets).build())
                .isInstanceOf(ValidationException.class).hasMessage(message);
        assertThatThrownBy(() -> MachineSpec.builder().secrets(secrets).overlay())
                .as("an overlay checks the same rules").isInstanceOf(ValidationException.class).hasMessage(message);
    }

    @Test
    void a_secret_variable_also_set_in_env_is_refused_in_the_merged_spec() {
        var base = MachineSpec.builder("app:1").env("TOKEN", "plain").overlay();
        var top = MachineSpec.builder().secret(Secret.env("token", "TOKEN")).overlay();
        assertThatThrownBy(() -> top.over(base).toSpec()).isInstanceOf(ValidationException.class)
                .hasMessage("config.secrets[0].env 'TOKEN' is also set in config.env");
    }
}
