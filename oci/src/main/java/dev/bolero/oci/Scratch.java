package dev.bolero.oci;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where unpacked trees live while a drive is built: a private directory on the memory file system
 * ({@code /dev/shm/bolero-<hash of the data directory>}, mode 0700, owned by this process's user) when it is a tmpfs
 * with room for the tree in both its own limit and the host's available memory, else {@code DATA_DIR/tmp} on disk.
 * The memory directory is per data directory, so {@link #sweep} may empty it like {@code DATA_DIR/tmp}.
 */
final class Scratch {
    private static final Logger LOG = LoggerFactory.getLogger(Scratch.class);
    private static final Path SHM = Path.of("/dev/shm");
    private static final Path MEMINFO = Path.of("/proc/meminfo");
    /** Memory left to the host after the tree: 512 MiB. */
    private static final long MEMORY_RESERVE = 512L * 1024 * 1024;

    private final Path disk;
    private final Optional<Path> memory;

    Scratch(Path disk, Optional<Path> memory) {
        this.disk = disk;
        this.memory = memory;
    }

    /** The scratch of {@code dataDir}: its {@code tmp}, and its directory under /dev/shm if that is a tmpfs. */
    static Scratch of(Path dataDir) {
        Path disk = dataDir.resolve("tmp");
        Optional<Path> memory = Optional.empty();
        try {
            if (Files.isDirectory(SHM) && Files.getFileStore(SHM).type().equals("tmpfs") && keepsUserXattrs(SHM)) {
                byte[] id = Sha256.newDigest().digest(dataDir.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
                memory = Optional.of(SHM.resolve("bolero-" + HexFormat.of().formatHex(id, 0, 8)));
            }
        } catch (IOException e) {
            LOG.debug("no memory scratch for {}: {}", dataDir, e.toString());
        }
        return new Scratch(disk, memory);
    }

    /**
     * Whether files in {@code dir} can carry {@code user.*} extended attributes (tmpfs before Linux 6.6 refuses them,
     * and layers may carry them): a memory scratch that would drop them is not used.
     */
    private static boolean keepsUserXattrs(Path dir) {
        Path probe = null;
        try {
            probe = Files.createTempFile(dir, "bolero-xattr-probe", "");
            Files.getFileAttributeView(probe, java.nio.file.attribute.UserDefinedFileAttributeView.class)
                    .write("bolero.probe", java.nio.ByteBuffer.wrap(new byte[] {1}));
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            LOG.info("no memory scratch: {} does not keep user.* extended attributes ({})", dir, e.toString());
            return false;
        } finally {
            if (probe != null) {
                try {
                    Files.deleteIfExists(probe);
                } catch (IOException e) {
                    LOG.debug("remove {}: {}", probe, e.toString());
                }
            }
        }
    }

    /**
     * A new private directory for a tree of about {@code bytes}: in memory when it fits, else on disk.
     *
     * @throws IOException if even the disk directory cannot be made
     */
    Path create(String prefix, long bytes) throws IOException {
        if (memory.isPresent() && fitsInMemory(bytes)) {
            for (int attempt = 0; ; attempt++) {
                try {
                    return Files.createTempDirectory(privateDir(memory.get()), prefix, PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rwx------")));
                } catch (java.nio.file.NoSuchFileException e) {
                    if (attempt == 0) {
                        continue; // removed as empty by a build that just finished
                    }
                    LOG.warn("memory scratch {} unusable, unpacking on disk: {}", memory.get(), e.toString());
                } catch (IOException e) {
                    LOG.warn("memory scratch {} unusable, unpacking on disk: {}", memory.get(), e.toString());
                }
                break;
            }
        }
        Files.createDirectories(disk);
        return Files.createTempDirectory(disk, prefix, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    /**
     * Deletes a directory {@link #create} made and, when that leaves the memory directory empty, the memory directory
     * (so that nothing is left in /dev/shm between builds).
     */
    void delete(Path work) throws IOException {
        Trees.delete(work);
        if (inMemory(work)) {
            try {
                Files.deleteIfExists(memory.get());
            } catch (java.nio.file.DirectoryNotEmptyException e) {
                // another build is using it
            }
        }
    }

    /** Whether {@code path} is in the memory scratch. */
    boolean inMemory(Path path) {
        return memory.isPresent() && path.startsWith(memory.get());
    }

    /** The disk directory, for other temporaries (deleted images on their way out). */
    Path disk() {
        return disk;
    }

    /** The directories whose every entry is a leftover once no build runs. */
    List<Path> roots() {
        return memory.isPresent() ? List.of(disk, memory.get()) : List.of(disk);
    }

    private boolean fitsInMemory(long bytes) {
        try {
            long available = availableMemory();
            return Files.getFileStore(SHM).getUsableSpace() > bytes && available - MEMORY_RESERVE > bytes;
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot tell the free memory: {}", e.toString());
            return false;
        }
    }

    private static long availableMemory() throws IOException {
        for (String line : Files.readAllLines(MEMINFO)) {
            if (line.startsWith("MemAvailable:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no MemAvailable in " + MEMINFO);
    }

    /** {@code dir}, created 0700 if missing; refused unless it is a real directory this process's user owns. */
    private static Path privateDir(Path dir) throws IOException {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // checked below
        }
        int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        int self = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || owner != self
                || ((Integer) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 077) != 0) {
            throw new IOException(dir + " is not a private directory of this user");
        }
        return dir;
    }
}
