package dev.bolero.runtime.internal.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostProcessesTest {

    @TempDir Path dir;

    @Test
    void aSpawnedProcessLeadsItsOwnSessionAndLogsToTheFile() throws Exception {
        Path log = dir.resolve("vmm.log");
        Files.writeString(log, "before\n");
        HostProcess p = HostProcesses.spawn("test", List.of("sh", "-c", "echo out; echo err >&2; exec sleep 60"), log);
        try {
            while (!Files.readString(log).contains("err")) Thread.sleep(10);
            String[] fields = statFields(p.pid());
            assertThat(Long.parseLong(fields[6 - 3])).as("session id").isEqualTo(p.pid());
            String status = Files.readString(Path.of("/proc", Long.toString(p.pid()), "status"));
            assertThat(status).as("no signal blocked").contains("SigBlk:\t0000000000000000");
            long ignored = Long.parseLong(status.lines().filter(l -> l.startsWith("SigIgn:")).findFirst().orElseThrow()
                    .substring(7).strip(), 16);
            assertThat(ignored & 0x7fffffffL).as("no standard signal ignored").isZero();
            // Polled: between the shell's last echo and the exec'd sleep's start, the dynamic loader holds the
            // libraries it maps open for a moment; a descriptor the spawn leaked stays and fails this.
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                try (var fds = Files.list(Path.of("/proc", Long.toString(p.pid()), "fd"))) {
                    assertThat(fds.map(f -> f.getFileName().toString()).sorted().toList())
                            .as("only stdin, stdout and stderr").containsExactly("0", "1", "2");
                }
            });
            assertThat(Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "fd", "0")))
                    .isEqualTo(Path.of("/dev/null"));
            long ticks = HostProcesses.startTicks(p.pid()).orElseThrow();
            assertThat(HostProcesses.find(p.pid(), ticks)).isPresent();
            assertThat(HostProcesses.find(p.pid(), ticks + 1)).as("same pid, other start time").isEmpty();
            assertThat(Duration.between(HostProcesses.startInstant(ticks), Instant.now()).abs())
                    .isLessThan(Duration.ofMinutes(5));
        } finally {
            p.kill();
        }
        assertThat(p.onExit().join()).as("killed by SIGKILL").isEqualTo(OptionalInt.of(128 + 9));
        assertThat(Files.readString(log)).startsWith("before\n").contains("out", "err");
        assertThat(HostProcesses.startTicks(p.pid())).as("reaped").isEmpty();
    }

    @Test
    void aCommandThatCannotBeFoundIsNamed() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() ->
                        HostProcesses.spawn("start x", List.of("no-such-command-" + ProcessHandle.current().pid()),
                                dir.resolve("log")))
                .hasMessageStartingWith("start x: spawn no-such-command-")
                .hasMessageContaining("No such file or directory");
    }

    static String[] statFields(long pid) throws java.io.IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }
}
