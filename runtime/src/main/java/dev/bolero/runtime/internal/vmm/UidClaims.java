package dev.bolero.runtime.internal.vmm;

import dev.bolero.runtime.VmmException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.channels.FileChannel;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Host-wide claims on the uids of a range, one file per claimed uid in a directory every agent on the host shares
 * ({@code RUN/uids/<uid>}, created atomically), so two VMMs never share a uid. A machine starts its search at a
 * position derived from its id, so a restarted machine tends to get its uid back.
 *
 * <p>A claim records the machine, its jail and the claimant (the pid and start time of the process that claimed
 * it). It is in use while its claimant lives (between the claim and the VMM's start) or while any process runs
 * with the uid (the VMM). An agent that dies between the two leaves a claim that is neither: {@link #reclaim}
 * removes those. Claiming, reclaiming and releasing hold an exclusive lock on {@code RUN/uids/.lock}, so no agent
 * ever removes a claim another has just made.
 */
final class UidClaims {
    private static final Logger LOG = LoggerFactory.getLogger(UidClaims.class);
    /** File locks are per process: threads of this JVM take this monitor first. */
    private static final Object JVM_LOCK = new Object();

    /** One claim as its file records it; {@code claimantPid} 0 when the file names none (an older agent's). */
    record Claim(int uid, String machineId, long claimantPid, long claimantTicks) {}

    private final Path dir;
    private final int first;
    private final int count;

    UidClaims(Path dir, int first, int count) {
        this.dir = dir;
        this.first = first;
        this.count = count;
    }

    /**
     * Claims a free uid for {@code machineId}; when every uid is claimed, reclaims the abandoned claims once and
     * tries again.
     *
     * @param jailRoot the machine's jail, recorded for the operator
     * @throws VmmException when every uid of the range is in use or the directory cannot be written
     */
    int claim(String machineId, String jailRoot) throws VmmException {
        String action = "claim a jail uid for machine " + machineId;
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            long self = ProcessHandle.current().pid();
            String text = "machine=" + machineId + "\nroot=" + jailRoot + "\nclaimant=" + self + ":"
                    + HostProcesses.startTicks(self).orElse(0) + "\n";
            OptionalLong uid = locked(dir, () -> {
                OptionalLong got = tryClaim(machineId, text);
                return got.isEmpty() && !reclaimLocked().isEmpty() ? tryClaim(machineId, text) : got;
            });
            if (uid.isPresent()) return (int) uid.getAsLong();
        } catch (IOException e) {
            throw new VmmException(action + ": " + e.getMessage(), e);
        }
        throw new VmmException(action + ": all " + count + " uids from " + first + " are in use");
    }

    private OptionalLong tryClaim(String machineId, String text) throws IOException {
        int start = Math.floorMod(machineId.hashCode(), count);
        for (int i = 0; i < count; i++) {
            int uid = first + (start + i) % count;
            try {
                Files.writeString(file(uid), text, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE);
                return OptionalLong.of(uid);
            } catch (FileAlreadyExistsException taken) {
                // next
            }
        }
        return OptionalLong.empty();
    }

    /** The file that records the claim on {@code uid}; deleting it gives the uid back. */
    Path file(int uid) {
        return dir.resolve(Integer.toString(uid));
    }

    /** The claims on uids of this range (files that vanish or are malformed meanwhile are left out). */
    List<Claim> claims() {
        List<Claim> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (!name.matches("[0-9]{1,10}")) continue;
                long uid = Long.parseLong(name);
                if (uid < first || uid >= (long) first + count) continue;
                read(f, (int) uid).ifPresent(out::add);
            }
        } catch (IOException e) {
            LOG.warn("list uid claims dir={} failed={}", dir, e.getMessage());
        }
        return out;
    }

    /**
     * Removes every claim whose claimant is gone while no process runs with its uid: the claims of agents that died
     * between claiming a uid and starting (or recording) the VMM, and of VMMs that died unseen.
     *
     * @return the uids given back
     */
    List<Integer> reclaim() {
        if (!Files.isDirectory(dir)) return List.of();
        try {
            return locked(dir, this::reclaimLocked);
        } catch (IOException e) {
            LOG.warn("reclaim jail uids dir={} failed={}", dir, e.getMessage());
            return List.of();
        }
    }

    /**
     * Gives a claim back if it is still the one made for the jail at {@code root} (it may have been reclaimed and
     * made again for another machine meanwhile). Problems are logged.
     */
    static void release(Path claim, Path root) {
        try {
            locked(claim.getParent(), () -> {
                if (Files.readAllLines(claim, StandardCharsets.UTF_8).contains("root=" + root)) Files.delete(claim);
                return null;
            });
        } catch (NoSuchFileException gone) {
            // released already
        } catch (IOException e) {
            LOG.warn("release uid claim={} failed={}", claim, e.getMessage());
        }
    }

    /** Runs {@code body} holding the claims' lock: no claim is made, reclaimed or released meanwhile. */
    <T> T locked(Locked<T> body) throws IOException {
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        return locked(dir, body);
    }

    /** {@link #reclaim} for a caller that holds the lock. */
    List<Integer> reclaimLocked() {
        Set<Integer> running = uidsOfProcesses();
        List<Integer> freed = new ArrayList<>();
        for (Claim c : claims()) {
            boolean claimantLives = c.claimantPid() > 0
                    && HostProcesses.find(c.claimantPid(), c.claimantTicks()).isPresent();
            if (claimantLives || running.contains(c.uid())) continue;
            try {
                if (Files.deleteIfExists(file(c.uid()))) {
                    freed.add(c.uid());
                    LOG.warn("reclaimed abandoned jail uid={} machine={}", c.uid(), c.machineId());
                }
            } catch (IOException e) {
                LOG.warn("reclaim jail uid={} failed={}", c.uid(), e.getMessage());
            }
        }
        return freed;
    }

    interface Locked<T> {
        T run() throws IOException;
    }

    private static <T> T locked(Path dir, Locked<T> body) throws IOException {
        synchronized (JVM_LOCK) {
            if (!Files.isDirectory(dir)) throw new NoSuchFileException(dir.toString());
            try (FileChannel lock = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); var held = lock.lock()) {
                return body.run();
            }
        }
    }

    private static Optional<Claim> read(Path file, int uid) {
        Map<String, String> kv = new HashMap<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int eq = line.indexOf('=');
                if (eq > 0) kv.put(line.substring(0, eq), line.substring(eq + 1));
            }
        } catch (NoSuchFileException gone) {
            return Optional.empty();
        } catch (IOException e) {
            LOG.warn("read uid claim={} failed={}", file, e.getMessage());
            return Optional.empty();
        }
        long pid = 0;
        long ticks = 0;
        String claimant = kv.getOrDefault("claimant", "");
        int colon = claimant.indexOf(':');
        if (colon > 0) {
            try {
                pid = Long.parseLong(claimant.substring(0, colon));
                ticks = Long.parseLong(claimant.substring(colon + 1));
            } catch (NumberFormatException e) {
                pid = 0;
            }
        }
        return Optional.of(new Claim(uid, kv.getOrDefault("machine", ""), pid, ticks));
    }

    /** Every uid (real, effective, saved or file-system) a live process of this host runs with. */
    private static Set<Integer> uidsOfProcesses() {
        Set<Integer> uids = new HashSet<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.toList()) {
                if (!p.getFileName().toString().chars().allMatch(Character::isDigit)) continue;
                try {
                    for (String line : Files.readAllLines(p.resolve("status"))) {
                        if (!line.startsWith("Uid:")) continue;
                        for (String id : line.substring(4).strip().split("\\s+")) uids.add(Integer.parseInt(id));
                        break;
                    }
                } catch (IOException | NumberFormatException gone) {
                    // exited meanwhile
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("list /proc: " + e.getMessage(), e);
        }
        return uids;
    }
}
