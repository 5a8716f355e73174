package dev.bolero.runtime.internal.vmm;

import dev.bolero.core.FileTrees;
import dev.bolero.runtime.JailConfig;
import dev.bolero.runtime.VmmException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-machine jails for VMM processes, entered through {@code bolero-jailer} (a static C program shipped as a
 * class-path resource and extracted to {@code RUN/bin/}). A driver {@link #prepare prepares} a jail (a uid claimed
 * host-wide, cgroups with limits, an empty root directory owned by root with a {@code /run} directory owned by the
 * machine's uid), puts the VMM's own files in it, spawns the VMM through {@link #command} and {@link #release
 * releases} the jail when the VMM is gone. The handle data of a jailed VMM carries its {@link Lease}.
 */
public final class Jail {
    private static final Logger LOG = LoggerFactory.getLogger(Jail.class);
    private static final String JAILER_RESOURCE = "/dev/bolero/jailer/bolero-jailer";
    private static final long MIB = 1024 * 1024;
    private static final Pattern CGROUP_NAME = Pattern.compile("([A-Za-z0-9_.-]{1,64})-([0-9]+)");
    /** System directories a dynamically linked VMM loads libraries from: bound read-only, or linked alike. */
    private static final List<Path> LIBRARY_DIRS =
            List.of(Path.of("/lib"), Path.of("/lib64"), Path.of("/usr/lib"), Path.of("/usr/lib64"));

    private final JailConfig config;
    private final UidClaims uids;
    private Path jailer;

    public Jail(JailConfig config) {
        this.config = config;
        this.uids = new UidClaims(config.runDir().resolve("uids"), config.firstUid(), config.uidCount());
    }

    /** The settings of this jail. */
    public JailConfig config() {
        return config;
    }

    /**
     * One machine's jail.
     *
     * @param root the directory the VMM sees as {@code /}
     * @param uid the VMM's uid, and gid
     * @param cgroups the cgroup directories the VMM is in
     * @param claim the file that holds the uid for this machine host-wide
     */
    public record Lease(Path root, int uid, List<Path> cgroups, Path claim) {
        static final String ROOT = "jail_root";
        static final String UID = "jail_uid";
        static final String CGROUPS = "jail_cgroups";
        static final String CLAIM = "jail_uid_claim";

        public Lease {
            cgroups = List.copyOf(cgroups);
        }

        /** The host path of a path inside the jail ({@code /run/ctl.sock}). */
        public Path host(String inJail) {
            return root.resolve(inJail.substring(1));
        }

        /** The handle data that records this lease. */
        public Map<String, String> handleData() {
            return Map.of(ROOT, root.toString(), UID, Integer.toString(uid),
                    CGROUPS, String.join(":", cgroups.stream().map(Path::toString).toList()), CLAIM, claim.toString());
        }

        /**
         * The lease a handle's data records, empty for an unjailed VMM.
         *
         * @throws VmmException when the data is malformed
         */
        public static Optional<Lease> fromHandle(Map<String, String> data) throws VmmException {
            if (!data.containsKey(ROOT)) return Optional.empty();
            try {
                String groups = data.getOrDefault(CGROUPS, "");
                return Optional.of(new Lease(Path.of(data.get(ROOT)), Integer.parseInt(data.get(UID)),
                        groups.isEmpty() ? List.of() : Arrays.stream(groups.split(":")).map(Path::of).toList(),
                        Path.of(data.get(CLAIM))));
            } catch (RuntimeException e) {
                throw new VmmException("read jail from handle: " + e.getMessage(), e);
            }
        }
    }

    /** A host file or directory the VMM sees read-only at {@code inJail}. */
    public record Bind(Path host, String inJail) {
        public Bind {
            if (!inJail.startsWith("/") || inJail.contains("..") || inJail.contains("=")) {
                throw new IllegalArgumentException("bad path in jail: " + inJail);
            }
            if (host.toString().contains("=")) throw new IllegalArgumentException("bad host path: " + host);
        }
    }

    /**
     * Claims a uid, creates the machine's cgroups (memory: guest RAM plus the configured overhead; CPU: one CPU's
     * time per vCPU; tasks: the configured maximum) and an empty jail at {@code root} (a leftover one is removed).
     *
     * @throws VmmException naming what could not be prepared; nothing is left behind then
     */
    public Lease prepare(String machineId, Path root, int cpus, int memoryMb) throws VmmException {
        String action = "prepare jail of machine " + machineId;
        int uid = uids.claim(machineId, root.toString());
        Path claim = uids.file(uid);
        List<Path> groups = List.of();
        try {
            groups = Cgroups.at(config.cgroupRoot()).create(config.cgroupParent(), cgroupName(machineId, uid),
                    new Cgroups.Limits((memoryMb + config.memoryOverheadMb()) * MIB, cpus, config.maxProcesses()));
            FileTrees.delete(root);
            Files.createDirectories(root);
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path run = Files.createDirectory(root.resolve("run"));
            give(uid, run);
            Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwx------"));
            return new Lease(root, uid, groups, claim);
        } catch (IOException | VmmException | RuntimeException e) {
            release(new Lease(root, uid, groups, claim));
            throw e instanceof VmmException v ? v : new VmmException(action + ": " + e.getMessage(), e);
        }
    }

    /** Makes a file in the jail the machine's own (owner and group: its uid). */
    public static void give(Lease lease, Path file) throws IOException {
        give(lease.uid(), file);
    }

    private static void give(int uid, Path file) throws IOException {
        Files.setAttribute(file, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(file, "unix:gid", uid, LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Puts {@code drives} in the jail's root as hard links {@code /drive-SERIAL.raw}, owned by the lease's uid (the
     * VMM opens them read-write; the agent, root, still can after the jail is gone), so they must be on the jail's
     * file system.
     *
     * @return the drives' paths inside the jail, in order
     */
    public static List<String> giveDrives(Lease lease, List<dev.bolero.runtime.VmSpec.Drive> drives)
            throws IOException {
        var paths = new java.util.ArrayList<String>(drives.size());
        for (var drive : drives) {
            String inJail = inJail(drive);
            Path link = lease.host(inJail);
            Files.deleteIfExists(link);
            Files.createLink(link, drive.file().toRealPath());
            give(lease, link);
            paths.add(inJail);
        }
        return paths;
    }

    /** Where {@link #giveDrives} puts {@code drive} in the jail. */
    public static String inJail(dev.bolero.runtime.VmSpec.Drive drive) {
        return "/drive-" + drive.serial() + ".raw";
    }

    /**
     * What a VMM executable needs in its jail: itself, read-only at the path it is run by, and when it is dynamically
     * linked (an ELF with an interpreter, or not an ELF at all) the system library directories ({@link #libraries}).
     * A static executable (Firecracker's and Cloud Hypervisor's releases are static musl builds) gets no libraries.
     */
    public static List<Bind> executable(Lease lease, Path binary) throws IOException {
        List<Bind> binds = new ArrayList<>(List.of(new Bind(binary.toRealPath(), binary.toString())));
        if (dynamicallyLinked(binary)) binds.addAll(libraries(lease));
        return binds;
    }

    /** Whether an executable needs a dynamic loader: false only for an ELF without a PT_INTERP program header. */
    static boolean dynamicallyLinked(Path binary) throws IOException {
        final int ptInterp = 3;
        try (FileChannel file = FileChannel.open(binary)) {
            ByteBuffer header = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            file.read(header, 0);
            if (header.position() < 64 || header.getInt(0) != 0x464c457f || header.get(4) != 2 || header.get(5) != 1) {
                return true; // not a 64-bit little-endian ELF: assume it needs the system's libraries
            }
            long phoff = header.getLong(0x20);
            int phentsize = Short.toUnsignedInt(header.getShort(0x36));
            int phnum = Short.toUnsignedInt(header.getShort(0x38));
            ByteBuffer type = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < phnum; i++) {
                type.clear();
                if (file.read(type, phoff + (long) i * phentsize) == 4 && type.getInt(0) == ptInterp) return true;
            }
            return false;
        }
    }

    /** Kills the VMM a jailer recorded in {@code pidFile} (a failed start: the jailer is gone, its VMM may not be). */
    public static void killRecorded(Path pidFile) {
        try {
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            HostProcesses.find(pid).ifPresent(p -> {
                p.kill();
                p.onExit().join();
            });
        } catch (IOException | NumberFormatException e) {
            // no pid recorded: nothing was forked
        }
    }

    /**
     * The VMM's host pid, once the jailer (still running) has written it to {@code pidFile}.
     *
     * @throws VmmException when the jailer exits first or writes none before {@code deadline}
     */
    public static long awaitPid(HostProcess jailer, Path pidFile, Duration deadline) throws VmmException {
        long until = System.nanoTime() + deadline.toNanos();
        while (true) {
            try {
                return Long.parseLong(Files.readString(pidFile).strip());
            } catch (IOException | NumberFormatException notYet) {
                // the jailer renames a complete file into place
            }
            if (!jailer.isAlive()) throw new VmmException("the jailer exited with status "
                    + jailer.onExit().join().orElse(-1) + " before recording the VMM's pid in " + pidFile);
            if (System.nanoTime() > until) throw new VmmException("the jailer recorded no VMM pid in " + pidFile
                    + " within " + deadline.toSeconds() + " s");
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VmmException("wait for the VMM pid in " + pidFile + ": interrupted", e);
            }
        }
    }

    /**
     * The system library directories, as the VMM's dynamic loader needs them: directories bound read-only, symbolic
     * links recreated in the jail (so {@code /lib -> usr/lib} works the same inside).
     */
    static List<Bind> libraries(Lease lease) throws IOException {
        List<Bind> binds = new ArrayList<>();
        for (Path dir : LIBRARY_DIRS) {
            if (Files.isSymbolicLink(dir)) {
                Path link = lease.host(dir.toString());
                Files.createDirectories(link.getParent());
                Files.createSymbolicLink(link, Files.readSymbolicLink(dir));
            } else if (Files.isDirectory(dir)) {
                binds.add(new Bind(dir, dir.toString()));
            }
        }
        return binds;
    }

    /**
     * The command that runs {@code vmm} (whose paths are as the VMM sees them inside the jail) in the jail: new
     * mount, PID and IPC namespaces, the binds and device nodes, the taps made the machine uid's own, the cgroups,
     * rlimits, the uid, no capabilities, {@code no_new_privs}. The jailer writes the VMM's host pid to
     * {@code pidFile}.
     *
     * @throws VmmException when the jailer cannot be extracted
     */
    public List<String> command(Lease lease, Path pidFile, List<Bind> binds, List<Path> devices, List<String> taps,
            List<String> vmm) throws VmmException {
        List<String> cmd = new ArrayList<>(List.of(jailer().toString(),
                "--root", lease.root().toString(),
                "--uid", Integer.toString(lease.uid()), "--gid", Integer.toString(lease.uid()),
                "--pidfile", pidFile.toString(),
                "--nofile", Integer.toString(config.maxFiles()), "--nproc", Integer.toString(config.maxProcesses())));
        for (Path g : lease.cgroups()) cmd.addAll(List.of("--cgroup", g.toString()));
        for (Bind b : binds) cmd.addAll(List.of("--bind-ro", b.host() + "=" + b.inJail()));
        for (Path d : devices) cmd.addAll(List.of("--dev", d.toString()));
        for (String t : taps) cmd.addAll(List.of("--tap", t));
        cmd.add("--");
        cmd.addAll(vmm);
        return cmd;
    }

    /**
     * Removes a jail whose VMM is gone: its directory (without following links or entering the bind mounts, which
     * lived only in the VMM's mount namespace), its cgroups and its uid claim. Idempotent; problems are logged.
     */
    public static void release(Lease lease) {
        try {
            FileTrees.delete(lease.root());
        } catch (IOException e) {
            LOG.warn("remove jail={} failed={}", lease.root(), e.getMessage());
        }
        List<Path> left = Cgroups.remove(lease.cgroups());
        if (!left.isEmpty()) LOG.warn("remove cgroups={} failed: still busy", left);
        UidClaims.release(lease.claim(), lease.root());
    }

    /** What a {@link #sweep} gave back. */
    public record Swept(List<Integer> uids, List<Path> cgroups) {
        public Swept {
            uids = List.copyOf(uids);
            cgroups = List.copyOf(cgroups);
        }
    }

    /**
     * Releases what jails whose VMM is gone left behind host-wide, for an agent that has re-adopted its machines and
     * killed the VMMs it did not adopt: the uid claims neither a live claimant nor a live process holds (an agent
     * died between claiming a uid and recording its VMM), then the empty cgroups under the configured parent that
     * are Bolero's (named {@code <machine>-<uid>} with a uid of this range) and no remaining claim accounts for.
     * Cgroups of other names, of other uid ranges, or with processes are never touched. Runs under the claims' lock,
     * so a jail being prepared meanwhile keeps its cgroups. Problems are logged.
     */
    public Swept sweep() {
        try {
            return uids.locked(() -> {
                List<Integer> freed = uids.reclaimLocked();
                List<UidClaims.Claim> claims = uids.claims();
                List<Path> removed = List.of();
                if (Files.isDirectory(config.cgroupRoot())) {
                    try {
                        removed = Cgroups.at(config.cgroupRoot()).sweep(config.cgroupParent(),
                                name -> orphanCgroup(name, claims));
                    } catch (VmmException e) {
                        LOG.debug("sweep cgroups: {}", e.getMessage());
                    }
                }
                if (!removed.isEmpty()) LOG.warn("removed orphan cgroups={}", removed);
                return new Swept(freed, removed);
            });
        } catch (IOException e) {
            LOG.warn("sweep jails run_dir={} failed={}", config.runDir(), e.getMessage());
            return new Swept(List.of(), List.of());
        }
    }

    /** Whether a cgroup under the parent is a jail's ({@code <machine>-<uid>}, uid in range) that no claim holds. */
    private boolean orphanCgroup(String name, List<UidClaims.Claim> claims) {
        Matcher m = CGROUP_NAME.matcher(name);
        if (!m.matches() || m.group(2).length() > 10) return false;
        long uid = Long.parseLong(m.group(2));
        if (uid < config.firstUid() || uid >= (long) config.firstUid() + config.uidCount()) return false;
        // a claim that names no machine (an older agent's) holds every cgroup of its uid
        return claims.stream().noneMatch(c -> c.uid() == uid
                && (c.machineId().isEmpty() || cgroupName(c.machineId(), c.uid()).equals(name)));
    }

    private synchronized Path jailer() throws VmmException {
        if (jailer != null) return jailer;
        try (InputStream in = Jail.class.getResourceAsStream(JAILER_RESOURCE)) {
            if (in == null) throw new VmmException("extract jailer: class-path resource " + JAILER_RESOURCE + " missing");
            byte[] binary = in.readAllBytes();
            Path dir = Files.createDirectories(config.runDir().resolve("bin"));
            Path target = dir.resolve("bolero-jailer-" + sha256(binary));
            if (!Files.isExecutable(target)) {
                Path tmp = Files.createTempFile(dir, "bolero-jailer", ".tmp");
                Files.write(tmp, binary);
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            jailer = target;
            return target;
        } catch (IOException e) {
            throw new VmmException("extract jailer to " + config.runDir() + "/bin: " + e.getMessage(), e);
        }
    }

    private static String cgroupName(String machineId, int uid) {
        String safe = machineId.replaceAll("[^A-Za-z0-9_.-]", "_");
        return (safe.length() > 64 ? safe.substring(0, 64) : safe) + "-" + uid;
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

}
