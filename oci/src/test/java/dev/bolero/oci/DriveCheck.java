package dev.bolero.oci;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * Real checks of root drives for tests: {@code e2fsck -fn}, a read-only loop mount, and a description of a tree
 * (names, types, modes, owners, sizes, content hashes, link targets, device numbers, hard-link identity, extended
 * attributes, times of non-directories) that is equal for equal trees.
 */
final class DriveCheck {
    /** No per-image limit below what a drive holds: the builds here test the drive writer's own limits. */
    private static final ImageLimits NO_IMAGE_LIMIT = ImageLimits.defaults().withMaxImageBytes(Long.MAX_VALUE);

    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle LLISTXATTR = LINKER.downcallHandle(LINKER.defaultLookup().find("llistxattr").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle LGETXATTR = LINKER.downcallHandle(LINKER.defaultLookup().find("lgetxattr").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));

    private DriveCheck() {}

    /** Skips the calling test unless this process is root and e2fsck and loop mounts are there. */
    static void assumeRootWithLoopMounts() {
        Assumptions.assumeTrue(LayerUnpacker.runningAsRoot(), "loop mounts need root");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/e2fsck")) || Files.isExecutable(Path.of("/sbin/e2fsck")),
                "e2fsck is not installed (e2fsprogs)");
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/loop-control")), "no loop devices (/dev/loop-control)");
    }

    /** Builds a drive from the layers (plain tars) with {@link DriveWriter}: the failure, or the drive. */
    static Path build(Path drive, long freeBytes, byte[]... layers) throws PullException, IOException {
        InputStream[] streams = new InputStream[layers.length];
        for (int i = 0; i < layers.length; i++) {
            streams[i] = new ByteArrayInputStream(layers[i]);
        }
        return build(drive, freeBytes, streams);
    }

    static Path build(Path drive, long freeBytes, InputStream... layers) throws PullException, IOException {
        try (DriveWriter writer = new DriveWriter(drive, NO_IMAGE_LIMIT, StoreBudget.unlimited().claim("the root drive"))) {
            for (InputStream layer : layers) {
                writer.apply(layer);
            }
            writer.finish(freeBytes);
        }
        return drive;
    }

    /** Runs a command, returning its exit code and output. */
    record Run(int exit, String output) {}

    static Run run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish");
        }
        return new Run(process.exitValue(), output);
    }

    /** Asserts that e2fsck -fn finds nothing to fix. */
    static void assertClean(Path drive) throws IOException, InterruptedException {
        Run fsck = run("e2fsck", "-fn", drive.toString());
        assertThat(fsck.exit()).as("e2fsck -fn %s:\n%s", drive, fsck.output()).isZero();
    }

    @FunctionalInterface
    interface MountedWork<T> {
        T run(Path root) throws Exception;
    }

    /** Runs {@code work} on the drive mounted read-only at a new directory under {@code temp}; unmounts after. */
    static <T> T mounted(Path drive, Path temp, MountedWork<T> work) throws Exception {
        Path mountPoint = Files.createTempDirectory(temp, "mnt");
        Run mount = run("mount", "-t", "ext4", "-o", "ro,loop", drive.toString(), mountPoint.toString());
        assertThat(mount.exit()).as("mount %s: %s", drive, mount.output()).isZero();
        try {
            return work.run(mountPoint);
        } finally {
            Run umount = run("umount", "-d", mountPoint.toString());
            if (umount.exit() != 0) {
                run("umount", "-l", "-d", mountPoint.toString()); // never leave a mount or a loop device behind
            }
            assertThat(umount.exit()).as("umount: %s", umount.output()).isZero();
            Files.delete(mountPoint);
        }
    }

    /** Asserts two descriptions are equal, showing only the paths where they differ. */
    static void assertSameTree(Map<String, String> actual, Map<String, String> expected) {
        List<String> differences = new ArrayList<>();
        java.util.Set<String> paths = new java.util.TreeSet<>(expected.keySet());
        paths.addAll(actual.keySet());
        for (String path : paths) {
            if (!java.util.Objects.equals(expected.get(path), actual.get(path))) {
                differences.add(path + ":\n  expected " + expected.get(path) + "\n  actual   " + actual.get(path));
            }
        }
        assertThat(differences).as("differences between the drive and the unpacked tree").isEmpty();
    }

    /** Each path under {@code root} (root itself as "", lost+found left out) with what it is. */
    static Map<String, String> describe(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(root)) {
            paths = walk.filter(p -> !root.relativize(p).toString().equals("lost+found")).sorted().toList();
        }
        Map<Long, String> inodes = new java.util.HashMap<>();
        for (Path path : paths) {
            String name = root.relativize(path).toString();
            Map<String, Object> a = Files.readAttributes(path, "unix:*", NOFOLLOW);
            int mode = (Integer) a.get("mode");
            int type = mode & 0170000;
            StringBuilder d = new StringBuilder();
            d.append(String.format("mode=%o uid=%s gid=%s", mode, a.get("uid"), a.get("gid")));
            switch (type) {
                case 0100000 -> {
                    d.append(" size=").append(a.get("size")).append(" sha=").append(sha(path));
                    d.append(" mtime=").append(a.get("lastModifiedTime"));
                }
                case 0120000 -> d.append(" target=").append(Files.readSymbolicLink(path)).append(" mtime=").append(a.get("lastModifiedTime"));
                case 0020000, 0060000 -> d.append(" rdev=").append(a.get("rdev")).append(" mtime=").append(a.get("lastModifiedTime"));
                case 0010000 -> d.append(" mtime=").append(a.get("lastModifiedTime"));
                default -> { }
            }
            if (type != 0040000) {
                long ino = (Long) a.get("ino");
                String first = inodes.putIfAbsent(ino, name);
                d.append(" nlink=").append(a.get("nlink"));
                if (first != null) {
                    d.append(" same-as=").append(first);
                }
            }
            d.append(" xattrs=").append(xattrs(path));
            out.put(name, d.toString());
        }
        return out;
    }

    private static String sha(Path file) throws IOException {
        var digest = Sha256.newDigest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest(), 0, 8);
    }

    /** The extended attributes of {@code path} itself, by name, values in hex. */
    static Map<String, String> xattrs(Path path) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment file = arena.allocateFrom(path.toString());
            MemorySegment names = arena.allocate(65536);
            long length = (long) LLISTXATTR.invokeExact(file, names, 65536L);
            if (length < 0) {
                throw new IOException("llistxattr " + path + " failed");
            }
            byte[] all = names.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE);
            List<String> list = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < all.length; i++) {
                if (all[i] == 0) {
                    list.add(new String(all, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            for (String name : list) {
                MemorySegment value = arena.allocate(65536);
                long size = (long) LGETXATTR.invokeExact(file, arena.allocateFrom(name), value, 65536L);
                out.put(name, size < 0 ? "?" : HexFormat.of().formatHex(value.asSlice(0, size).toArray(ValueLayout.JAVA_BYTE)));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException(e);
        }
        return out;
    }

    /** Unpacks the layers into a new directory under {@code temp} with {@link LayerUnpacker}: the failure, or the tree. */
    static Path unpack(Path temp, byte[]... layers) throws PullException, IOException {
        Path root = Files.createTempDirectory(temp, "tree");
        Files.setAttribute(root, "unix:mode", 0755);
        LayerUnpacker unpacker = new LayerUnpacker(root, LayerUnpacker.runningAsRoot());
        for (byte[] layer : layers) {
            unpacker.apply(new ByteArrayInputStream(layer), Optional.empty());
        }
        return root;
    }
}
