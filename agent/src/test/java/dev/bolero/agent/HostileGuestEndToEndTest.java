package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.oci.testing.ImageSpec;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A guest that floods its output at full speed, beside a calm one, on one real agent: the flood's log stays within
 * its cap, the agent's heap stays bounded, and the calm machine's log keeps flowing and its API keeps answering. The
 * calm machine's API latency before and during the flood is printed (not asserted: the host is shared).
 */
class HostileGuestEndToEndTest {
    @RegisterExtension
    static final AgentFixture env = AgentFixture.withImage("hostile/app:1", ImageSpec.cmd("sleep", "600"));

    private static final Duration FLOOD = Duration.ofSeconds(20);

    @Test
    void a_guest_flooding_its_output_neither_grows_the_agent_nor_stalls_another_machine(AgentHarness node)
            throws Exception {
        String calm = node.create("""
                {"name": "calm", "start": true, "config": {"image": "%s", "guest": {"cpus": 1, "memory_mb": 128},
                 "init": {"cmd": ["sh", "-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done"]}}}
                """.formatted(env.image()));
        node.waitFor(calm, "running", 240);
        await().atMost(Duration.ofSeconds(60)).until(() -> node.logs(calm).contains("tick 3\n"));
        long[] before = latencies(node, calm, 20);
        long heapBefore = usedHeapAfterGc();

        String flood = node.create("""
                {"name": "flood", "start": true, "config": {"image": "%s", "guest": {"cpus": 1, "memory_mb": 128},
                 "init": {"cmd": ["sh", "-c", "yes 'a line of a guest that floods its output at full speed'"]}}}
                """.formatted(env.image()));
        node.waitFor(flood, "running", 240);
        Path floodDir = env.dataDir().resolve("machines").resolve(flood);
        await().atMost(Duration.ofSeconds(60)).until(() -> logBytes(floodDir) > 1024 * 1024);

        // During the flood: the calm machine's ticks keep arriving, its API keeps answering.
        int ticksAtStart = ticks(node.logs(calm));
        long[] during = latencies(node, calm, 20);
        long deadline = System.nanoTime() + FLOOD.toNanos();
        long maxHeap = 0;
        while (System.nanoTime() < deadline) {
            maxHeap = Math.max(maxHeap, usedHeapAfterGc());
            Thread.sleep(1000);
        }
        int ticksAtEnd = ticks(node.logs(calm));
        long floodLog = logBytes(floodDir);

        System.out.printf("HOSTILE flood log %d bytes (cap 2 x %d); agent heap %d MiB before, at most %d MiB during;"
                        + " calm ticks %d -> %d in %d s%n", floodLog, dev.bolero.agent.logs.LogStore.DEFAULT_MAX_FILE_BYTES,
                heapBefore >> 20, maxHeap >> 20, ticksAtStart, ticksAtEnd, FLOOD.toSeconds());
        System.out.printf("HOSTILE calm GET latency (ms): before p50 %.1f max %.1f; during flood p50 %.1f max %.1f%n",
                before[before.length / 2] / 1e6, before[before.length - 1] / 1e6, during[during.length / 2] / 1e6,
                during[during.length - 1] / 1e6);

        assertThat(logBytes(floodDir)).as("the flood's logs, rotated at the cap")
                .isLessThanOrEqualTo(2 * dev.bolero.agent.logs.LogStore.DEFAULT_MAX_FILE_BYTES + 1024 * 1024);
        assertThat(ticksAtEnd).as("the calm machine's log kept flowing").isGreaterThan(ticksAtStart);
        assertThat(maxHeap - heapBefore).as("the agent's live heap growth during the flood (bytes)")
                .isLessThan(128L * 1024 * 1024);
        assertThat(node.get("/api/v1/machines/" + flood).json().path("state").asString()).isEqualTo("running");

        assertThat(node.delete("/api/v1/machines/" + flood + "?force=true").status()).isEqualTo(204);
        assertThat(node.delete("/api/v1/machines/" + calm + "?force=true").status()).isEqualTo(204);
    }

    /** {@code n} GETs of the machine, each must answer 200; their durations in nanoseconds, sorted. */
    private static long[] latencies(AgentHarness node, String id, int n) {
        long[] took = new long[n];
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            assertThat(node.get("/api/v1/machines/" + id).status()).isEqualTo(200);
            took[i] = System.nanoTime() - t;
        }
        Arrays.sort(took);
        return took;
    }

    private static int ticks(String log) {
        List<String> lines = new ArrayList<>(log.lines().filter(l -> l.startsWith("tick ")).toList());
        return lines.isEmpty() ? 0 : Integer.parseInt(lines.getLast().substring(5).strip());
    }

    /** Bytes of the machine's workload log files (current and rotated). */
    private static long logBytes(Path machineDir) throws Exception {
        try (Stream<Path> files = Files.list(machineDir)) {
            long sum = 0;
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith("workload.log")).toList()) {
                sum += Files.size(f);
            }
            return sum;
        }
    }

    private static long usedHeapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
