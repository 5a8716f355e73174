package dev.bolero.agent.stats;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.wire.MachineStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The usage reader on trees shaped as the kernel's files, and on this test's own process. */
class UsageReaderTest {
    private static final Instant NOW = Instant.parse("2026-12-02T12:00:00Z");

    @TempDir
    Path root;

    private void write(String path, String content) throws IOException {
        Path file = root.resolve(path);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
    }

    /** A process 42 named {@code qemu (x) y} with 250 user and 50 system ticks, and I/O counters. */
    private void process(String cgroup) throws IOException {
        write("proc/42/stat", "42 (qemu (x) y) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 100 "
                + "1000000 500 18446744073709551615\n");
        write("proc/42/io", "rchar: 9\nwchar: 9\nsyscr: 1\nsyscw: 1\nread_bytes: 4096\nwrite_bytes: 8192\n"
                + "cancelled_write_bytes: 0\n");
        write("proc/42/cgroup", cgroup);
        write("proc/42/status", "Name:\tqemu\nVmRSS:\t  2048 kB\n");
    }

    @Test
    void readsCpuDiskAndTheMemoryOfACgroupV1() throws IOException {
        process("12:pids:/bolero/m1\n5:memory:/bolero/m1\n3:cpu,cpuacct:/bolero/m1\n1:name=systemd:/\n");
        write("sys/fs/cgroup/memory/bolero/m1/memory.usage_in_bytes", "1000000\n");
        write("sys/fs/cgroup/memory/bolero/m1/memory.limit_in_bytes", "2000000\n");
        write("proc/net/dev", """
                Inter-|   Receive                                                |  Transmit
                 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                    lo:     500       5    0    0    0     0          0         0      500       5    0    0    0     0       0          0
                tap-m1:      10       1    0    0    0     0          0         0       20       2    0    0    0     0       0          0
                """);

        var sample = new UsageReader(root).read(42, Optional.of("tap-m1"), NOW).orElseThrow();

        assertThat(sample.time()).isEqualTo(NOW);
        assertThat(sample.cpu().seconds()).isEqualTo(3.0);
        assertThat(sample.disk()).isEqualTo(new MachineStats.Disk(4096, 8192));
        assertThat(sample.memory()).isEqualTo(new MachineStats.Memory(1000000, 2000000));
        assertThat(sample.network()).as("the guest receives what the tap transmits")
                .isEqualTo(new MachineStats.Network(20, 10, 2, 1));
    }

    @Test
    void readsTheMemoryOfACgroupV2AndShowsNoLimitAsZero() throws IOException {
        process("0::/bolero/m2\n");
        write("sys/fs/cgroup/bolero/m2/memory.current", "123456\n");
        write("sys/fs/cgroup/bolero/m2/memory.max", "max\n");

        var sample = new UsageReader(root).read(42, Optional.empty(), NOW).orElseThrow();

        assertThat(sample.memory()).isEqualTo(new MachineStats.Memory(123456, 0));
        assertThat(sample.network()).isEqualTo(new MachineStats.Network(0, 0, 0, 0));
    }

    @Test
    void withoutAMemoryCgroupOfItsOwnTheResidentSetIsTheUseAndAV1UnlimitedCgroupHasNoLimit() throws IOException {
        process("5:memory:/\n");
        assertThat(new UsageReader(root).read(42, Optional.of("gone"), NOW).orElseThrow().memory())
                .isEqualTo(new MachineStats.Memory(2048 * 1024, 0));

        process("5:memory:/big\n");
        write("sys/fs/cgroup/memory/big/memory.usage_in_bytes", "5\n");
        write("sys/fs/cgroup/memory/big/memory.limit_in_bytes", "9223372036854771712\n");
        assertThat(new UsageReader(root).read(42, Optional.empty(), NOW).orElseThrow().memory())
                .isEqualTo(new MachineStats.Memory(5, 0));
    }

    @Test
    void aProcessThatIsGoneHasNoSample() {
        assertThat(new UsageReader(root).read(99, Optional.empty(), NOW)).isEmpty();
    }

    @Test
    void readsThisProcessFromTheRealProc() throws IOException {
        try (var server = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             var client = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), server.getLocalPort())) {
            client.getOutputStream().write(1); // traffic on lo, whatever network namespace this runs in
        }
        var sample = new UsageReader(Path.of("/")).read(ProcessHandle.current().pid(), Optional.of("lo"), NOW)
                .orElseThrow();
        assertThat(sample.cpu().seconds()).isPositive(); // a JVM that ran tests has used CPU
        assertThat(sample.memory().bytes()).isPositive();
        assertThat(sample.network().rxPackets()).as("lo, read as a tap").isPositive();
    }
}
