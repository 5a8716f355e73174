package dev.bolero.agent.machine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a restarted agent removes because no machine of its store accounts for it: VMM processes working in a
 * machine directory of this data directory that were not re-adopted, and machine directories without a machine.
 * Ownership is the machine directory: a process whose command line names no path under {@code machinesDir} is never
 * touched.
 */
final class Reconciler {
    private static final Logger log = LoggerFactory.getLogger(Reconciler.class);

    /** A process working in machine {@code machineId}'s directory. */
    record OwnedProcess(long pid, String machineId) {}

    private final Path machinesDir;

    Reconciler(Path machinesDir) {
        this.machinesDir = machinesDir.toAbsolutePath().normalize();
    }

    /** The live processes whose command line names a path under a machine directory of this data directory. */
    List<OwnedProcess> ownedProcesses() {
        String prefix = machinesDir + "/";
        List<OwnedProcess> out = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.toList()) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) continue;
                String cmd;
                try {
                    cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8)
                            .replace('\0', ' ');
                } catch (IOException e) {
                    continue; // exited meanwhile
                }
                int at = cmd.indexOf(prefix);
                if (at < 0) continue;
                int end = cmd.indexOf('/', at + prefix.length());
                if (end < 0) continue;
                out.add(new OwnedProcess(Long.parseLong(name), cmd.substring(at + prefix.length(), end)));
            }
        } catch (IOException e) {
            log.warn("list /proc: {}", e.getMessage());
        }
        out.addAll(jailedVmms(out));
        return out;
    }

    /**
     * VMMs found through their machine's {@code vmm.pid} whose root is inside the machine's directory: a jailed VMM's
     * command line names only paths inside its jail, and its jailer may be gone.
     */
    private List<OwnedProcess> jailedVmms(List<OwnedProcess> known) {
        List<OwnedProcess> out = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(machinesDir)) {
            for (Path dir : dirs.toList()) {
                try {
                    long pid = Long.parseLong(Files.readString(dir.resolve("vmm.pid")).strip());
                    Path root = Files.readSymbolicLink(Path.of("/proc/" + pid + "/root"));
                    boolean seen = known.stream().anyMatch(k -> k.pid() == pid);
                    if (root.startsWith(dir) && !seen) out.add(new OwnedProcess(pid, dir.getFileName().toString()));
                } catch (IOException | NumberFormatException e) {
                    // no pid file, or no such process: nothing runs for this machine
                }
            }
        } catch (IOException e) {
            log.warn("list {}: {}", machinesDir, e.getMessage());
        }
        return out;
    }

    /**
     * Kills (SIGKILL) every owned process of a machine not in {@code adopted} (a re-adopted machine's processes — its
     * VMM, and the jailer that holds it — all stay); returns those killed.
     */
    List<OwnedProcess> killOrphans(Set<String> adopted) {
        List<OwnedProcess> killed = new ArrayList<>();
        for (OwnedProcess owned : ownedProcesses()) {
            if (adopted.contains(owned.machineId())) continue;
            // A jailer's VMM runs as PID 1 of its own namespace and names no host path: it goes with its parent.
            List<OwnedProcess> tree = new ArrayList<>();
            ProcessHandle.of(owned.pid()).ifPresent(h -> h.descendants()
                    .forEach(d -> tree.add(new OwnedProcess(d.pid(), owned.machineId()))));
            tree.add(owned);
            for (OwnedProcess p : tree) ProcessHandle.of(p.pid()).ifPresent(h -> {
                log.warn("machine={} killing orphan VMM pid={}", p.machineId(), p.pid());
                h.destroyForcibly();
                try {
                    h.onExit().get(5, TimeUnit.SECONDS);
                } catch (Exception e) {
                    log.warn("machine={} orphan pid={} still alive: {}", p.machineId(), p.pid(), e.toString());
                }
                killed.add(p);
            });
        }
        return killed;
    }

    /** Deletes the machine directories whose id is not in {@code known} (half-created or half-deleted machines). */
    void removeStrayDirectories(Set<String> known) {
        try (Stream<Path> dirs = Files.list(machinesDir)) {
            for (Path d : dirs.toList()) {
                if (known.contains(d.getFileName().toString()) || !Files.isDirectory(d)) continue;
                log.warn("removing stray machine directory {}", d);
                MachineFiles.deleteRecursively(d);
            }
        } catch (IOException e) {
            log.warn("list {}: {}", machinesDir, e.getMessage());
        }
    }
}
