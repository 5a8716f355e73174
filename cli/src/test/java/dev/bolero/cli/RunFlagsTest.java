package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.core.MachineSpec;
import org.junit.jupiter.api.Test;

/** {@code bolero run}'s {@code -p} and {@code --restart} values, parsed into the API's records. */
class RunFlagsTest {
    @Test
    void publishTakesHostPortColonPortWithTcpByDefault() {
        assertThat(ClusterCommands.servicePort("8080:80")).isEqualTo(new MachineSpec.Service("tcp", 80, 8080));
        assertThat(ClusterCommands.servicePort("5353:53/udp")).isEqualTo(new MachineSpec.Service("udp", 53, 5353));
        assertThat(ClusterCommands.servicePort("443:8443/tcp")).isEqualTo(new MachineSpec.Service("tcp", 8443, 443));
    }

    @Test
    void aBadPublishIsAUsageErrorNamingIt() {
        assertThatThrownBy(() -> ClusterCommands.servicePort("80")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-p 80: expected HOSTPORT:PORT");
        assertThatThrownBy(() -> ClusterCommands.servicePort("8080:80/sctp"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("8080:80/sctp");
        assertThatThrownBy(() -> ClusterCommands.servicePort("70000:80")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("port must be between 1 and 65535, got 70000");
    }

    @Test
    void restartTakesAPolicyAndOptionalRetries() {
        assertThat(ClusterCommands.restartPolicy("no")).isEqualTo(new MachineSpec.Restart("no", null));
        assertThat(ClusterCommands.restartPolicy("on-failure:3")).isEqualTo(new MachineSpec.Restart("on-failure", 3));
        assertThat(ClusterCommands.restartPolicy("always")).isEqualTo(new MachineSpec.Restart("always", null));
        assertThatThrownBy(() -> ClusterCommands.restartPolicy("sometimes"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--restart sometimes");
        assertThatThrownBy(() -> ClusterCommands.restartPolicy("always:x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--restart always:x");
    }

    @Test
    void checkTakesATypeATargetAndOptionalTiming() {
        assertThat(MachineFlags.check("web", "http:8080/healthz?full=1,interval=5,grace=30"))
                .isEqualTo(MachineSpec.Check.http(8080, "/healthz?full=1").every(5, null, 30));
        assertThat(MachineFlags.check("web", "http:8080")).isEqualTo(MachineSpec.Check.http(8080, null));
        assertThat(MachineFlags.check("db", "tcp:5432,timeout=1")).isEqualTo(MachineSpec.Check.tcp(5432)
                .every(null, 1, null));
        assertThat(MachineFlags.check("ps", "exec:pgrep -x nginx").command()).containsExactly("pgrep", "-x", "nginx");
    }

    @Test
    void aBadCheckIsAUsageErrorNamingIt() {
        assertThatThrownBy(() -> MachineFlags.check("web", "udp:53")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--check web=udp:53: unknown check type 'udp' (http, tcp, exec)");
        assertThatThrownBy(() -> MachineFlags.check("web", "http:80,every=5"))
                .hasMessage("--check web=http:80,every=5: unknown option 'every=5' (interval=S, timeout=S, grace=S)");
        assertThatThrownBy(() -> MachineFlags.check("web", "tcp:http"))
                .hasMessage("--check web=tcp:http: 'http' is not a number");
        assertThatThrownBy(() -> MachineFlags.check("web", "tcp:99999"))
                .hasMessage("--check web=tcp:99999: config.checks.web.port must be between 1 and 65535, got 99999");
        assertThatThrownBy(() -> MachineFlags.check("web", "8080"))
                .hasMessage("--check web=8080: expected http:, tcp: or exec: before the target");
    }

    @Test
    void secretTakesANameAndAVariableOrAnAbsolutePath() {
        assertThat(MachineFlags.secret("DB_PASSWORD=DB_PASSWORD"))
                .isEqualTo(MachineSpec.Secret.env("DB_PASSWORD", "DB_PASSWORD"));
        assertThat(MachineFlags.secret("tls_key=/run/secrets/tls.key"))
                .isEqualTo(MachineSpec.Secret.file("tls_key", "/run/secrets/tls.key"));
        assertThatThrownBy(() -> MachineFlags.secret("tls_key")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--secret tls_key: expected NAME=VAR or NAME=/PATH");
        assertThatThrownBy(() -> MachineFlags.secret("tls_key=/key")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--secret tls_key=/key: config.secrets[0].path must be inside a directory other than /, "
                        + "got '/key'");
    }
}
