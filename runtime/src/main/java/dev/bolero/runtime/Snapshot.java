package dev.bolero.runtime;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A suspended machine's saved memory and device state, in {@code snapshot/} of its work directory (the directory
 * {@code 0700}, its files {@code 0600}: they are the tenant's memory), and what that state depends on.
 *
 * <p>Three steps, each a file:
 * <ol>
 *   <li>Whenever a driver spawns a VMM it records the VMM's <em>launch</em> ({@code vmm.launch}): the identity of the
 *       VMM binary and its version, of the kernel and initramfs, the VM's shape (vCPUs, memory, taps, kernel
 *       arguments) and which file is the machine's writable root drive.
 *   <li>Suspending writes the state files (driver-specific names) into {@link #begin a fresh snapshot directory}.
 *   <li>Once the VMM is gone, {@link #seal} writes the manifest: the launch, the caller's own dependencies (the
 *       machine's config, …), the state files' sizes and the root drive's identity (inode, size, modification time)
 *       as the VMM left it. The manifest is written last and atomically: a snapshot without one is incomplete.
 * </ol>
 * A <em>seed</em> is the same kind of state taken from a VM that runs on ({@link #beginSeed}, {@link #sealSeed}): new
 * machines start from it (a fork's clones; an image's template is meant to be one too). {@link #plant} makes a new
 * machine's snapshot from a seed (hard links of its state files), so that the machine's ordinary start resumes it;
 * such a snapshot may differ from the machine's launch in its taps' names and MACs (the clone takes its own
 * identity once resumed) and {@link #planted} tells the caller to give it one.
 *
 * <p>A later {@link #unusableReason check} compares the manifest with the launch a resume would make now; any
 * difference, a missing or resized state file, or a root drive touched since, makes the snapshot unusable.
 */
public final class Snapshot {
    private static final String DIR = "snapshot";
    private static final String MANIFEST = "manifest.properties";
    private static final String LAUNCH = "vmm.launch";
    /** The launch key naming the machine's writable root drive file; its identity is recorded at {@link #seal}. */
    private static final String ROOT_DRIVE_FILE = "root_drive.file";
    private static final String ROOT_DRIVE = "root_drive";
    private static final String STATE_PREFIX = "state.";
    private static final String CALLER_PREFIX = "caller.";
    /** The manifest key marking a snapshot planted from a {@link #sealSeed seed}: another VM's state. */
    private static final String PLANTED = "planted";
    private static final String TAPS = "taps";

    private Snapshot() {}

    /** The snapshot directory of the machine whose work directory is {@code workDir}. */
    public static Path dir(Path workDir) {
        return workDir.resolve(DIR);
    }

    /** Whether {@code workDir} holds a complete (sealed) snapshot. */
    public static boolean exists(Path workDir) {
        return Files.exists(dir(workDir).resolve(MANIFEST));
    }

    /**
     * What a VMM started from {@code spec} depends on: the identity of {@code vmm} and its {@code version}, of the
     * kernel and initramfs, and the VM's shape. {@code rootDrive} is the machine's writable root drive as the driver
     * made it.
     *
     * @throws VmmException when a file cannot be inspected
     */
    public static Map<String, String> launch(VmSpec spec, Path vmm, String version, Path rootDrive)
            throws VmmException {
        Map<String, String> launch = new TreeMap<>();
        launch.put("vmm", identity(vmm));
        launch.put("vmm.version", version.strip());
        launch.put("kernel", identity(spec.boot().kernel()));
        launch.put("initramfs", identity(spec.boot().initramfs()));
        launch.put("kernel.args", String.join(" ", spec.boot().kernelArgs()));
        launch.put("kernel.flavour", spec.boot().flavour().name());
        launch.put("cpus", Integer.toString(spec.cpus()));
        launch.put("memory_mb", Integer.toString(spec.memoryMb()));
        launch.put(TAPS, String.join(",", spec.taps().stream().map(t -> t.name() + "=" + t.mac()).toList()));
        launch.put("base_drive", identity(spec.rootDrive()));
        launch.put("root_drive.bytes", Long.toString(spec.rootDriveSize()));
        launch.put(ROOT_DRIVE_FILE, rootDrive.toAbsolutePath().toString());
        return launch;
    }

    /**
     * Records the launch of the VMM now running in {@code workDir} (see {@link #launch}); replaces an earlier one.
     *
     * @throws VmmException when it cannot be written
     */
    public static void recordLaunch(Path workDir, Map<String, String> launch) throws VmmException {
        write(workDir.resolve(LAUNCH), launch, "record the VMM's launch in " + workDir);
    }

    /**
     * Starts a snapshot: removes any earlier one and makes the empty, private snapshot directory.
     *
     * @return the snapshot directory, where the driver writes its state files
     * @throws VmmException when the directory cannot be made
     */
    public static Path begin(Path workDir) throws VmmException {
        discard(workDir);
        Path dir = dir(workDir);
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new VmmException("make snapshot directory " + dir + ": " + e.getMessage(), e);
        }
        return dir;
    }

    /**
     * Creates an empty state file {@code name} in the snapshot directory {@code dir} (from {@link #begin}),
     * {@code 0600}, for a VMM or the driver to fill.
     */
    public static Path stateFile(Path dir, String name) throws VmmException {
        Path file = dir.resolve(name);
        try {
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (IOException e) {
            throw new VmmException("create snapshot file " + file + ": " + e.getMessage(), e);
        }
        return file;
    }

    /**
     * Completes the snapshot once its VMM is gone: writes the manifest (the recorded launch, {@code dependencies}
     * under a {@code caller.} prefix, every state file's size, the root drive's identity now). Files a VMM created in
     * the directory are made {@code 0600}.
     *
     * @throws VmmException when there is no recorded launch, no state file, or the manifest cannot be written; the
     *     snapshot is discarded then
     */
    public static void seal(Path workDir, Map<String, String> dependencies) throws VmmException {
        Path dir = dir(workDir);
        try {
            Map<String, String> manifest = new TreeMap<>(read(workDir.resolve(LAUNCH)));
            if (manifest.isEmpty()) throw new VmmException("seal snapshot in " + workDir + ": no VMM launch recorded");
            dependencies.forEach((k, v) -> manifest.put(CALLER_PREFIX + k, v));
            manifest.put(ROOT_DRIVE, identity(Path.of(manifest.get(ROOT_DRIVE_FILE))));
            List<Path> states = stateFiles(dir);
            if (states.isEmpty()) throw new VmmException("seal snapshot in " + workDir + ": the VMM saved no state");
            for (Path state : states) {
                Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rw-------"));
                manifest.put(STATE_PREFIX + state.getFileName(), Long.toString(Files.size(state)));
            }
            write(dir.resolve(MANIFEST), manifest, "seal snapshot in " + workDir);
        } catch (IOException | VmmException e) {
            discard(workDir);
            if (e instanceof VmmException v) throw v;
            throw new VmmException("seal snapshot in " + workDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Makes the empty, private directory {@code seed} (which must not exist) for a driver to save a running VM's state
     * into.
     *
     * @throws VmmException when it cannot be made
     */
    public static Path beginSeed(Path seed) throws VmmException {
        try {
            return Files.createDirectory(seed,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new VmmException("make seed directory " + seed + ": " + e.getMessage(), e);
        }
    }

    /**
     * Completes the seed saved from the VM running in {@code workDir}: writes its manifest (the VM's recorded launch
     * and the sizes of {@code stateFiles}, files of {@code seed}).
     *
     * @throws VmmException when there is no recorded launch or the manifest cannot be written
     */
    public static void sealSeed(Path workDir, Path seed, List<String> stateFiles) throws VmmException {
        try {
            Map<String, String> manifest = new TreeMap<>(read(workDir.resolve(LAUNCH)));
            if (manifest.isEmpty()) throw new VmmException("seal seed " + seed + ": no VMM launch recorded");
            for (String name : stateFiles) {
                Path state = seed.resolve(name);
                Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rw-------"));
                manifest.put(STATE_PREFIX + name, Long.toString(Files.size(state)));
            }
            write(seed.resolve(MANIFEST), manifest, "seal seed " + seed);
        } catch (IOException e) {
            throw new VmmException("seal seed " + seed + ": " + e.getMessage(), e);
        }
    }

    /**
     * Makes the snapshot of a new machine in {@code workDir} from {@code seed}: its state files hard-linked (the
     * seed's files can go once every clone is planted), the seed's launch with {@code rootDrive} (the machine's own
     * copy-on-write drive over the seed's, made by the driver before) as the root drive, and {@code dependencies}.
     *
     * @throws VmmException when the seed is incomplete or a file cannot be linked or written; nothing is planted then
     */
    public static void plant(Path seed, Path workDir, Path rootDrive, Map<String, String> dependencies)
            throws VmmException {
        Path dir = begin(workDir);
        try {
            Map<String, String> manifest = new TreeMap<>(read(seed.resolve(MANIFEST)));
            if (manifest.isEmpty()) throw new VmmException("plant a snapshot from " + seed + ": no complete seed");
            for (String key : manifest.keySet()) {
                if (key.startsWith(STATE_PREFIX)) {
                    String name = key.substring(STATE_PREFIX.length());
                    Files.createLink(dir.resolve(name), seed.resolve(name));
                }
            }
            dependencies.forEach((k, v) -> manifest.put(CALLER_PREFIX + k, v));
            manifest.put(ROOT_DRIVE_FILE, rootDrive.toAbsolutePath().toString());
            manifest.put(ROOT_DRIVE, identity(rootDrive));
            manifest.put(PLANTED, "true");
            write(dir.resolve(MANIFEST), manifest, "plant a snapshot in " + workDir);
        } catch (IOException | VmmException e) {
            discard(workDir);
            if (e instanceof VmmException v) throw v;
            throw new VmmException("plant a snapshot from " + seed + " in " + workDir + ": " + e.getMessage(), e);
        }
    }

    /** Whether the complete snapshot in {@code workDir} was {@link #plant planted} from another VM's seed. */
    public static boolean planted(Path workDir) {
        try {
            return "true".equals(read(dir(workDir).resolve(MANIFEST)).get(PLANTED));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Why the snapshot in {@code workDir} cannot resume a VMM launched as {@code launch} for a caller whose
     * dependencies are now {@code dependencies}: names what changed ({@code "kernel changed"}, {@code "root drive
     * changed since the suspend"}, {@code "state file memory truncated"}, …). Empty when it can.
     */
    public static Optional<String> unusableReason(Path workDir, Map<String, String> launch,
            Map<String, String> dependencies) {
        Path dir = dir(workDir);
        Map<String, String> manifest;
        try {
            manifest = read(dir.resolve(MANIFEST));
        } catch (IOException e) {
            return Optional.of("read its manifest: " + e.getMessage());
        }
        if (manifest.isEmpty()) return Optional.of("no complete snapshot");
        Map<String, String> expected = new LinkedHashMap<>(launch);
        dependencies.forEach((k, v) -> expected.put(CALLER_PREFIX + k, v));
        boolean planted = "true".equals(manifest.get(PLANTED));
        for (var e : expected.entrySet()) {
            if (planted && e.getKey().equals(TAPS)) { // a clone has taps of its own: only their number must match
                if (count(e.getValue()) != count(manifest.getOrDefault(TAPS, ""))) {
                    return Optional.of("taps changed (the seed had " + count(manifest.getOrDefault(TAPS, ""))
                            + ", now " + count(e.getValue()) + ")");
                }
                continue;
            }
            if (!e.getValue().equals(manifest.get(e.getKey()))) {
                return Optional.of(describe(e.getKey()) + " changed (was " + manifest.getOrDefault(e.getKey(), "absent")
                        + ", now " + e.getValue() + ")");
            }
        }
        for (String key : manifest.keySet()) {
            if (key.startsWith(CALLER_PREFIX) && !expected.containsKey(key)) {
                return Optional.of(describe(key) + " changed (was " + manifest.get(key) + ", now absent)");
            }
        }
        try {
            String drive = identity(Path.of(manifest.get(ROOT_DRIVE_FILE)));
            if (!drive.equals(manifest.get(ROOT_DRIVE))) {
                return Optional.of("root drive changed since the suspend (was " + manifest.get(ROOT_DRIVE) + ", now "
                        + drive + ")");
            }
            for (var e : manifest.entrySet()) {
                if (!e.getKey().startsWith(STATE_PREFIX)) continue;
                Path state = dir.resolve(e.getKey().substring(STATE_PREFIX.length()));
                if (!Files.exists(state)) return Optional.of("state file " + state.getFileName() + " is missing");
                if (Files.size(state) != Long.parseLong(e.getValue())) {
                    return Optional.of("state file " + state.getFileName() + " has " + Files.size(state)
                            + " bytes, the suspend wrote " + e.getValue());
                }
            }
        } catch (IOException | VmmException e) {
            return Optional.of(e.getMessage());
        }
        return Optional.empty();
    }

    /** Removes the snapshot of {@code workDir}, if any; a failure is ignored (the next suspend replaces it). */
    public static void discard(Path workDir) {
        Path dir = dir(workDir);
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            // left for the next suspend's discard or the machine's delete
        }
    }

    /** A file as a dependency: its real path, inode, size and modification time. */
    static String identity(Path file) throws VmmException {
        try {
            Path real = file.toRealPath();
            BasicFileAttributes a = Files.readAttributes(real, BasicFileAttributes.class);
            return real + " inode=" + a.fileKey() + " size=" + a.size() + " mtime=" + a.lastModifiedTime().toInstant();
        } catch (IOException e) {
            throw new VmmException("inspect " + file + ": " + e.getMessage(), e);
        }
    }

    private static int count(String list) {
        return list.isEmpty() ? 0 : list.split(",").length;
    }

    private static String describe(String key) {
        if (key.startsWith(CALLER_PREFIX)) return key.substring(CALLER_PREFIX.length());
        return key.replace('_', ' ');
    }

    private static List<Path> stateFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> !p.getFileName().toString().equals(MANIFEST)).sorted().toList();
        }
    }

    private static Map<String, String> read(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (NoSuchFileException e) {
            return Map.of();
        }
        Map<String, String> map = new TreeMap<>();
        p.stringPropertyNames().forEach(k -> map.put(k, p.getProperty(k)));
        return map;
    }

    private static void write(Path file, Map<String, String> values, String action) throws VmmException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Properties p = new Properties();
        p.putAll(values);
        try {
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                p.store(out, null);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new VmmException(action + ": " + e.getMessage(), e);
        }
    }
}
