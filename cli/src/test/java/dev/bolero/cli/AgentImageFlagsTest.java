package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.oci.ImageLimits;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code bolero agent}'s image limit flags and their defaults. */
class AgentImageFlagsTest {
    @TempDir
    Path dir;

    @Test
    void theDefaultsLimitAnImageTo16GiBAndAMillionEntriesAndTheStoreToHalfItsFileSystem() throws Exception {
        Path dataDir = dir.resolve("not-yet/data");
        AgentCommand agent = parse("--data-dir", dataDir.toString());

        ImageLimits limits = agent.imageLimits();

        assertThat(limits.maxImageBytes()).isEqualTo(16L << 30);
        assertThat(limits.maxImageEntries()).isEqualTo(1_000_000);
        assertThat(limits.storeBudgetBytes()).isEqualTo(Files.getFileStore(dir).getTotalSpace() / 2);
        assertThat(agent.registryReadTimeoutSeconds).isEqualTo(30);
    }

    @Test
    void theFlagsSetEachLimit() throws Exception {
        AgentCommand agent = parse("--data-dir", dir.toString(), "--image-max-unpacked-mb", "512", "--image-max-entries", "5000",
                "--image-store-budget-mb", "2048", "--registry-read-timeout", "5");

        assertThat(agent.imageLimits()).isEqualTo(new ImageLimits(512L << 20, 5000, 2048L << 20));
        assertThat(agent.registryReadTimeoutSeconds).isEqualTo(5);
    }

    private static AgentCommand parse(String... args) {
        AgentCommand agent = new AgentCommand();
        new CommandLine(agent).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args); // as Main does
        return agent;
    }
}
