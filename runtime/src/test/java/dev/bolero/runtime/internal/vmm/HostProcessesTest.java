package dev.bolero.runtime.internal.vmm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostProcessesTest {

    @TempDir Path dir;

    @Test
    void aSpawnedProcessLeadsItsOwnSessionAndLogsToTheFile() throws Exception {
        Path log = dir.resolve("vmm.log");
        Process p = HostProcesses.spawn("test", List.of("sh", "-c", "echo out; echo err >&2; exec sleep 60"), log);
        try {
            // setsid(2) runs after exec of setsid(1): wait until the command itself has run.
            while (!Files.readString(log).contains("err")) Thread.sleep(10);
            String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            assertThat(Long.parseLong(fields[6 - 3])).as("session id").isEqualTo(p.pid());
            long ticks = HostProcesses.startTicks(p.pid()).orElseThrow();
            assertThat(HostProcesses.find(p.pid(), ticks)).isPresent();
            assertThat(HostProcesses.find(p.pid(), ticks + 1)).as("same pid, other start time").isEmpty();
            assertThat(Duration.between(HostProcesses.startInstant(ticks), Instant.now()).abs())
                    .isLessThan(Duration.ofMinutes(5));
        } finally {
            p.destroyForcibly();
            p.onExit().join();
        }
        assertThat(Files.readString(log)).contains("out", "err");
        assertThat(HostProcesses.startTicks(p.pid())).isEmpty();
    }
}
