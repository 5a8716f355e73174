package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code run --region}, and how {@code logs --fleet} prefixes its lines. */
class LogsAndRunFlagsTest {
    @Test
    void runPlacesInTheRegionItIsGiven() {
        var run = new ClusterCommands.Run();
        new CommandLine(run).setCaseInsensitiveEnumValuesAllowed(true).parseArgs("--region", "fra", "busybox");
        assertThat(run.spec().region()).isEqualTo("fra");
        var plain = new ClusterCommands.Run();
        new CommandLine(plain).setCaseInsensitiveEnumValuesAllowed(true).parseArgs("busybox");
        assertThat(plain.spec().region()).isNull();
    }

    @Test
    void runItAsksForATerminalAnOpenStdinAndNoRestartUnlessRestartIsGiven() {
        var run = new ClusterCommands.Run();
        new CommandLine(run).setCaseInsensitiveEnumValuesAllowed(true).parseArgs("-it", "busybox", "sh");
        var config = run.spec().config();
        assertThat(config.init()).isEqualTo(new dev.bolero.core.MachineSpec.Init(null, List.of("sh"), null, null, true,
                true));
        assertThat(config.restart().policy()).isEqualTo("no");
        assertThat(config.autoDestroy()).as("--rm is the CLI's delete").isFalse();
        var restarted = new ClusterCommands.Run();
        new CommandLine(restarted).setCaseInsensitiveEnumValuesAllowed(true).parseArgs("-i", "--restart", "always",
                "busybox");
        assertThat(restarted.spec().config().init().stdinOpen()).isTrue();
        assertThat(restarted.spec().config().init().onTerminal()).isFalse();
        assertThat(restarted.spec().config().restart().policy()).isEqualTo("always");
        var detached = new ClusterCommands.Run();
        new CommandLine(detached).setCaseInsensitiveEnumValuesAllowed(true).parseArgs("busybox");
        assertThat(detached.spec().config().init()).isNull();
        assertThat(detached.spec().config().restart()).isNull();
    }

    @Test
    void eachWholeLineGetsItsMachinesPrefixAndALastPartialLineIsEndedAtClose() throws java.io.IOException {
        var bytes = new ByteArrayOutputStream();
        var out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        try (var a = new FleetLogs.Prefixed("web-1 | ", out); var b = new FleetLogs.Prefixed("web-2 | ", out)) {
            a.write("hel".getBytes(StandardCharsets.UTF_8));
            b.write("one\ntw".getBytes(StandardCharsets.UTF_8));
            a.write("lo\n".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo("web-2 | one\nweb-1 | hello\nweb-2 | tw\n");
    }
}
