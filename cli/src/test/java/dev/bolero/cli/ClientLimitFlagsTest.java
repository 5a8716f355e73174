package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.http.ClientLimits;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The client-limit flags every serving command takes, their defaults, and the flag an invalid value names. */
class ClientLimitFlagsTest {
    @Test
    void withoutFlagsEachListenerHasTheDefaultLimits() {
        assertThat(parse(new ServerCommand()).clientLimits.limits()).isEqualTo(ClientLimits.DEFAULT);
        assertThat(parse(new AgentCommand()).clientLimits.limits()).isEqualTo(ClientLimits.DEFAULT);
        assertThat(parse(new GatewayCommand(), "--domain", "apps.test").clientLimits.limits())
                .isEqualTo(ClientLimits.DEFAULT);
    }

    @Test
    void theFlagsSetEachLimitAndZeroTurnsOneOff() {
        GatewayCommand gateway = parse(new GatewayCommand(), "--domain", "apps.test", "--request-header-timeout", "5",
                "--min-request-body-rate", "0", "--max-connections-per-client", "0", "--max-connections", "500");

        assertThat(gateway.clientLimits.limits()).isEqualTo(new ClientLimits(Duration.ofSeconds(5), 0, 0, 500));
    }

    @Test
    void aNegativeLimitIsRefusedNamingItsFlag() {
        ServerCommand server = parse(new ServerCommand(), "--max-connections-per-client", "-1");

        assertThatThrownBy(server.clientLimits::limits).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--max-connections-per-client");
    }

    private static <T> T parse(T command, String... args) {
        new CommandLine(command).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args); // as Main does
        return command;
    }
}
