package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** How {@code bolero tokens create --expires} reads a lifetime. */
class TokensCommandTest {
    @Test
    void lifetimesAreSecondsMinutesHoursOrDays() {
        assertThat(ClusterCommands.Tokens.seconds("90")).isEqualTo(90);
        assertThat(ClusterCommands.Tokens.seconds("90m")).isEqualTo(5400);
        assertThat(ClusterCommands.Tokens.seconds("12h")).isEqualTo(43200);
        assertThat(ClusterCommands.Tokens.seconds("30d")).isEqualTo(2592000);
        assertThatThrownBy(() -> ClusterCommands.Tokens.seconds("1w")).hasMessageContaining("like 90m, 12h or 30d");
        assertThatThrownBy(() -> ClusterCommands.Tokens.seconds("-5m")).hasMessageContaining("got -5m");
    }
}
