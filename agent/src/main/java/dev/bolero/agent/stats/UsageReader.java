package dev.bolero.agent.stats;

import dev.bolero.api.wire.MachineStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Reads what one VMM uses from the kernel's files, under a root that is {@code /} on a node (a test points it at a
 * tree of its own): CPU time from {@code /proc/PID/stat} (user and system ticks, {@value #USER_HZ} a second, as the
 * Linux ABI fixes them), block I/O from {@code /proc/PID/io}, memory from the process's memory cgroup (v1
 * {@code memory.usage_in_bytes} / {@code memory.limit_in_bytes}, v2 {@code memory.current} / {@code memory.max},
 * found through {@code /proc/PID/cgroup} under {@code /sys/fs/cgroup}; the process's resident set and no limit when it
 * has no memory cgroup of its own), and the tap's counters from {@code /proc/net/dev}, turned to the guest's point of
 * view (what the tap transmits, the guest receives).
 */
public final class UsageReader {
    /** Clock ticks per second of {@code /proc/PID/stat}: fixed at 100 by the Linux ABI on every architecture here. */
    static final int USER_HZ = 100;

    /** Limits from here up mean none (cgroup v1 writes 2^63 rounded down to a page). */
    private static final long NO_LIMIT = 1L << 62;

    private final Path root;

    /** A reader of the files under {@code root} ({@code /} on a node). */
    public UsageReader(Path root) {
        this.root = root;
    }

    /**
     * One sample of VMM {@code pid}, whose machine's tap is {@code tap} (if it has one), at {@code now}.
     *
     * @return empty when the process is gone
     */
    public Optional<MachineStats.Sample> read(long pid, Optional<String> tap, Instant now) {
        Path proc = root.resolve("proc").resolve(Long.toString(pid));
        try {
            var cpu = new MachineStats.Cpu(cpuSeconds(Files.readString(proc.resolve("stat"))));
            var disk = disk(Files.readAllLines(proc.resolve("io")));
            var memory = memory(proc);
            var network = tap.map(this::network).orElse(new MachineStats.Network(0, 0, 0, 0));
            return Optional.of(new MachineStats.Sample(now, cpu, memory, network, disk));
        } catch (IOException e) {
            return Optional.empty(); // the process ended between two reads
        }
    }

    /** User plus system time of a {@code /proc/PID/stat} line, whose second field (the name) may hold spaces. */
    static double cpuSeconds(String stat) {
        String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // after[0] is field 3 (state): utime is field 14, stime field 15
        long ticks = Long.parseLong(after[11]) + Long.parseLong(after[12]);
        return (double) ticks / USER_HZ;
    }

    static MachineStats.Disk disk(List<String> io) {
        return new MachineStats.Disk(field(io, "read_bytes"), field(io, "write_bytes"));
    }

    private static long field(List<String> lines, String name) {
        for (String line : lines) {
            if (line.startsWith(name + ":")) return Long.parseLong(line.substring(name.length() + 1).strip());
        }
        return 0;
    }

    private MachineStats.Memory memory(Path proc) throws IOException {
        Path cgroups = root.resolve("sys/fs/cgroup");
        for (String line : Files.readAllLines(proc.resolve("cgroup"))) {
            String[] parts = line.split(":", 3);
            if (parts.length != 3 || parts[2].equals("/")) continue;
            String relative = parts[2].substring(1);
            if (parts[0].equals("0") && parts[1].isEmpty()) {
                Path dir = cgroups.resolve(relative);
                if (Files.exists(dir.resolve("memory.current"))) {
                    return new MachineStats.Memory(number(dir.resolve("memory.current")),
                            number(dir.resolve("memory.max")));
                }
            } else if (List.of(parts[1].split(",")).contains("memory")) {
                Path dir = cgroups.resolve("memory").resolve(relative);
                if (Files.exists(dir.resolve("memory.usage_in_bytes"))) {
                    return new MachineStats.Memory(number(dir.resolve("memory.usage_in_bytes")),
                            number(dir.resolve("memory.limit_in_bytes")));
                }
            }
        }
        long rssKb = field(Files.readAllLines(proc.resolve("status")).stream().map(l -> l.replace(" kB", ""))
                .toList(), "VmRSS");
        return new MachineStats.Memory(rssKb * 1024, 0);
    }

    /** A cgroup or counter file's number; no limit ({@code max} on v2, a page-rounded 2^63 on v1) is 0. */
    private static long number(Path file) throws IOException {
        String v = Files.readString(file).strip();
        if (v.equals("max")) return 0;
        long n = Long.parseLong(v);
        return n >= NO_LIMIT ? 0 : n;
    }

    /**
     * The tap's counters from {@code /proc/net/dev}, which shows the reading process's network namespace (sysfs would
     * show the one it was mounted in), turned to the guest's side; zeros when the tap is gone.
     */
    private MachineStats.Network network(String tap) {
        try {
            for (String line : Files.readAllLines(root.resolve("proc/net/dev"))) {
                int colon = line.indexOf(':');
                if (colon < 0 || !line.substring(0, colon).strip().equals(tap)) continue;
                String[] f = line.substring(colon + 1).strip().split("\\s+");
                // receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes packets …
                return new MachineStats.Network(Long.parseLong(f[8]), Long.parseLong(f[0]), Long.parseLong(f[9]),
                        Long.parseLong(f[1]));
            }
        } catch (IOException e) {
            // no /proc/net/dev: a kernel without networking
        }
        return new MachineStats.Network(0, 0, 0, 0);
    }
}
