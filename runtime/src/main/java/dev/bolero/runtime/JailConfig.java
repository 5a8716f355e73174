package dev.bolero.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * How a driver confines each VMM (see {@code jailer/src/bolero-jailer.c}): its own unprivileged uid and gid from
 * {@code [firstUid, firstUid + uidCount)}, a per-machine chroot holding only what the VMM opens, new mount, PID
 * and IPC namespaces, {@code no_new_privs}, no capabilities, rlimits, and a cgroup with memory, CPU and process
 * limits. Requires root.
 *
 * @param firstUid the first uid (and gid) of the range machines get theirs from; above 0
 * @param uidCount how many uids the range holds; at least 1
 * @param cgroupRoot where the cgroup hierarchies are mounted (normally {@code /sys/fs/cgroup}); v1 and v2 work
 * @param cgroupParent the cgroup (relative to each hierarchy) the machines' cgroups are made in, e.g. {@code bolero}
 * @param memoryOverheadMb how far above guest RAM a VMM's memory limit is (the VMM's own code, buffers, page tables)
 * @param maxFiles the VMM's open-file limit (RLIMIT_NOFILE)
 * @param maxProcesses the VMM's process and thread limit (RLIMIT_NPROC for its uid, and the cgroup's pids.max)
 * @param runDir host-wide state shared by every agent on the host: uid claims and the extracted jailer
 */
public record JailConfig(
        int firstUid,
        int uidCount,
        Path cgroupRoot,
        String cgroupParent,
        long memoryOverheadMb,
        int maxFiles,
        int maxProcesses,
        Path runDir) {

    /** The default uid range: 65,536 uids from 200,000, clear of the ids Debian hands out to users and systemd. */
    public static final int DEFAULT_FIRST_UID = 200_000;

    public static final int DEFAULT_UID_COUNT = 65_536;

    public JailConfig {
        Objects.requireNonNull(cgroupRoot, "cgroupRoot");
        Objects.requireNonNull(cgroupParent, "cgroupParent");
        Objects.requireNonNull(runDir, "runDir");
        if (firstUid < 1) throw new IllegalArgumentException("jail uids must start above 0, got " + firstUid);
        if (uidCount < 1 || (long) firstUid + uidCount - 1 > Integer.MAX_VALUE - 1) {
            throw new IllegalArgumentException("jail uid count must be at least 1 and stay below 2^31-1, got "
                    + uidCount);
        }
        if (!cgroupParent.matches("[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*") || cgroupParent.contains("..")) {
            throw new IllegalArgumentException("cgroup parent must be a relative path of plain names, got '"
                    + cgroupParent + "'");
        }
        if (memoryOverheadMb < 0) throw new IllegalArgumentException("memory overhead must be >= 0 MiB");
        if (maxFiles < 64) throw new IllegalArgumentException("max files must be at least 64, got " + maxFiles);
        if (maxProcesses < 16) {
            throw new IllegalArgumentException("max processes must be at least 16, got " + maxProcesses);
        }
    }

    /** The defaults: uids 200000-265535, cgroups under {@code bolero}, 256 MiB overhead, 4096 files, 512 tasks. */
    public static JailConfig defaults() {
        return new JailConfig(DEFAULT_FIRST_UID, DEFAULT_UID_COUNT, Path.of("/sys/fs/cgroup"), "bolero", 256, 4096,
                512, Path.of("/run/bolero"));
    }

    /** These settings with the uid range {@code FIRST-LAST} (inclusive), as {@code --jail-uids} takes it. */
    public JailConfig withUids(String range) {
        String[] parts = range.split("-", -1);
        try {
            if (parts.length == 2) {
                int first = Integer.parseInt(parts[0].strip());
                int last = Integer.parseInt(parts[1].strip());
                if (last >= first) {
                    return new JailConfig(first, last - first + 1, cgroupRoot, cgroupParent, memoryOverheadMb,
                            maxFiles, maxProcesses, runDir);
                }
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("jail uids must be FIRST-LAST with FIRST <= LAST, got '" + range + "'");
    }

    /** These settings with another memory overhead. */
    public JailConfig withMemoryOverheadMb(long mb) {
        return new JailConfig(firstUid, uidCount, cgroupRoot, cgroupParent, mb, maxFiles, maxProcesses, runDir);
    }

    /** The defaults when this process runs as root (jailing needs it), empty otherwise. */
    public static Optional<JailConfig> whenRoot() {
        return runningAsRoot() ? Optional.of(defaults()) : Optional.empty();
    }

    /** Whether this process runs as root. */
    public static boolean runningAsRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith("Uid:"))
                    .anyMatch(l -> l.split("\\s+")[2].equals("0"));
        } catch (IOException e) {
            return false;
        }
    }
}
