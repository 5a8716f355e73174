package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.wire.MachineStats;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** How {@code bolero stats} turns a machine's samples into docker's columns. */
class StatsCommandTest {
    private static MachineStats.Sample sample(String time, double cpuSeconds) {
        return new MachineStats.Sample(Instant.parse(time), new MachineStats.Cpu(cpuSeconds),
                new MachineStats.Memory(300L << 20, 1L << 30), new MachineStats.Network(1536, 10, 3, 1),
                new MachineStats.Disk(0, 5L << 30));
    }

    @Test
    void cpuIsTheShareOfOneCpuBetweenTheLastTwoSamples() {
        var before = sample("2026-12-02T12:00:00Z", 10.0);
        var after = sample("2026-12-02T12:00:10Z", 15.0);
        assertThat(StatsCommand.cpuPercent(before, after)).isEqualTo(50.0);
        assertThat(StatsCommand.cpuPercent(after, sample("2026-12-02T12:00:20Z", 1.0)))
                .as("a restarted VMM's counter starts again: no negative use").isZero();
        assertThat(StatsCommand.cpuPercent(after, after)).isZero();
    }

    @Test
    void sizesAreWrittenAsDockerWritesThem() {
        assertThat(StatsCommand.bytes(512)).isEqualTo("512B");
        assertThat(StatsCommand.bytes(1536)).isEqualTo("1.5KiB");
        assertThat(StatsCommand.bytes(5L << 30)).isEqualTo("5.0GiB");
    }
}
