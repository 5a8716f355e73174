package dev.bolero.runtime.internal.vmm;

import dev.bolero.runtime.VmmException;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Per-machine cgroups with memory, CPU and task limits, on a cgroup v2 (unified) or v1 host. On v2 one directory
 * {@code ROOT/PARENT/NAME} with {@code memory.max}, {@code memory.swap.max}, {@code cpu.max} and {@code pids.max};
 * on v1 one directory per controller hierarchy ({@code ROOT/memory/PARENT/NAME} with
 * {@code memory.limit_in_bytes}, {@code ROOT/cpu/…} with {@code cpu.cfs_quota_us} over {@code cpu.cfs_period_us},
 * {@code ROOT/pids/…} with {@code pids.max}). A process joins by writing to {@code cgroup.procs} of each directory.
 */
public final class Cgroups {
    /** The CFS period: quotas are this many microseconds per vCPU per period. */
    static final long PERIOD_US = 100_000;

    private static final int REMOVE_ATTEMPTS = 100;

    private final Path root;
    private final boolean unified;

    private Cgroups(Path root, boolean unified) {
        this.root = root;
        this.unified = unified;
    }

    /**
     * The cgroup hierarchies mounted at {@code root}: v2 when {@code root/cgroup.controllers} exists, else v1 when
     * the memory, cpu and pids hierarchies do.
     *
     * @throws VmmException when neither is usable
     */
    public static Cgroups at(Path root) throws VmmException {
        if (Files.exists(root.resolve("cgroup.controllers"))) return new Cgroups(root, true);
        for (String controller : List.of("memory", "cpu", "pids")) {
            if (!Files.isDirectory(root.resolve(controller))) {
                throw new VmmException("cgroups at " + root + ": neither cgroup v2 (no cgroup.controllers) nor v1"
                        + " with a " + controller + " hierarchy");
            }
        }
        return new Cgroups(root, false);
    }

    /** Whether this is the unified (v2) hierarchy. */
    public boolean unified() {
        return unified;
    }

    /**
     * The limits of one VMM.
     *
     * @param memoryBytes the memory limit (RAM and page cache charged to it)
     * @param cpus how many CPUs' worth of time per period it may use
     * @param maxTasks the most processes and threads it may have
     */
    public record Limits(long memoryBytes, int cpus, int maxTasks) {
        public Limits {
            if (memoryBytes < 1 || cpus < 1 || maxTasks < 1) throw new IllegalArgumentException("limits must be > 0");
        }
    }

    /**
     * Creates the cgroup {@code parent/name} with {@code limits}, replacing a leftover of the same name.
     *
     * @return the directories a process must join
     * @throws VmmException naming the file that could not be written
     */
    public List<Path> create(String parent, String name, Limits limits) throws VmmException {
        String action = "create cgroup " + parent + "/" + name;
        List<Path> dirs = new ArrayList<>();
        try {
            if (unified) {
                Path parentDir = root.resolve(parent);
                Files.createDirectories(parentDir);
                enableControllers(root, parentDir);
                Path dir = fresh(parentDir.resolve(name), dirs);
                write(dir, "memory.max", Long.toString(limits.memoryBytes()));
                if (Files.exists(dir.resolve("memory.swap.max"))) write(dir, "memory.swap.max", "0");
                write(dir, "cpu.max", limits.cpus() * PERIOD_US + " " + PERIOD_US);
                write(dir, "pids.max", Integer.toString(limits.maxTasks()));
            } else {
                Path memory = fresh(root.resolve("memory").resolve(parent).resolve(name), dirs);
                write(memory, "memory.limit_in_bytes", Long.toString(limits.memoryBytes()));
                Path cpu = fresh(root.resolve("cpu").resolve(parent).resolve(name), dirs);
                write(cpu, "cpu.cfs_period_us", Long.toString(PERIOD_US));
                write(cpu, "cpu.cfs_quota_us", Long.toString(limits.cpus() * PERIOD_US));
                Path pids = fresh(root.resolve("pids").resolve(parent).resolve(name), dirs);
                write(pids, "pids.max", Integer.toString(limits.maxTasks()));
            }
            return List.copyOf(dirs);
        } catch (IOException e) {
            remove(dirs);
            throw new VmmException(action + ": " + e.getMessage(), e);
        }
    }

    /**
     * Removes cgroup directories once their processes are gone, waiting briefly for the kernel to let go of an
     * exiting process. Best effort: what cannot be removed is left (and replaced by the next {@link #create}).
     *
     * @return the directories that could not be removed
     */
    public static List<Path> remove(List<Path> dirs) {
        List<Path> left = new ArrayList<>();
        for (Path dir : dirs) {
            for (int attempt = 1; ; attempt++) {
                try {
                    Files.deleteIfExists(dir);
                    break;
                } catch (IOException busy) {
                    if (attempt == REMOVE_ATTEMPTS) {
                        left.add(dir);
                        break;
                    }
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        left.add(dir);
                        break;
                    }
                }
            }
        }
        return left;
    }

    /**
     * Removes the cgroups directly under {@code parent} (in each hierarchy) that {@code removable} accepts by name
     * and that hold no process; never another cgroup, never one with processes (the kernel refuses that too).
     *
     * @return the directories removed
     */
    public List<Path> sweep(String parent, Predicate<String> removable) {
        List<Path> parents = unified ? List.of(root.resolve(parent))
                : Stream.of("memory", "cpu", "pids").map(c -> root.resolve(c).resolve(parent)).toList();
        List<Path> removed = new ArrayList<>();
        for (Path dir : parents) {
            if (!Files.isDirectory(dir)) continue;
            try (Stream<Path> children = Files.list(dir)) {
                for (Path child : children.filter(Files::isDirectory).toList()) {
                    if (!removable.test(child.getFileName().toString()) || !empty(child)) continue;
                    try {
                        Files.delete(child);
                        removed.add(child);
                    } catch (IOException busy) {
                        // a process joined meanwhile
                    }
                }
            } catch (IOException e) {
                // the parent vanished meanwhile: nothing of ours is there
            }
        }
        return removed;
    }

    private static boolean empty(Path cgroup) {
        try {
            return Files.readString(cgroup.resolve("cgroup.procs")).isBlank();
        } catch (IOException e) {
            return false;
        }
    }

    private static Path fresh(Path dir, List<Path> made) throws IOException {
        if (Files.isDirectory(dir) && !remove(List.of(dir)).isEmpty()) {
            throw new FileSystemException(dir.toString(), null, "a leftover cgroup still has processes");
        }
        Files.createDirectories(dir);
        made.add(dir);
        return dir;
    }

    /** On v2, controllers must be enabled in every ancestor's subtree_control for a child to have them. */
    private static void enableControllers(Path root, Path parent) throws IOException {
        Path dir = root;
        enable(dir);
        for (Path name : root.relativize(parent)) {
            dir = dir.resolve(name.toString());
            enable(dir);
        }
    }

    private static void enable(Path dir) throws IOException {
        List<String> enabled = List.of(Files.readString(dir.resolve("cgroup.subtree_control")).strip().split("\\s+"));
        List<String> missing = List.of("memory", "cpu", "pids").stream().filter(c -> !enabled.contains(c))
                .map(c -> "+" + c).toList();
        if (!missing.isEmpty()) write(dir, "cgroup.subtree_control", String.join(" ", missing));
    }

    private static void write(Path dir, String file, String value) throws IOException {
        try {
            Files.writeString(dir.resolve(file), value);
        } catch (IOException e) {
            throw new IOException("write " + value + " to " + dir.resolve(file) + ": " + e.getMessage(), e);
        }
    }
}
