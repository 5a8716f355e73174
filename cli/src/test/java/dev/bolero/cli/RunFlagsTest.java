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
}
