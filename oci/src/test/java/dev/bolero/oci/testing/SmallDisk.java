package dev.bolero.oci.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * A real, small file system that fills up: a tmpfs of a given size mounted on a fresh directory under {@code /tmp}.
 * Writing past its size fails with ENOSPC ("No space left on device"), as a full disk does. {@link #close()}
 * unmounts it (lazily if still busy) and removes the directory; use it in try-with-resources so that happens after a
 * failure too. Tests not running as root are skipped (a JUnit assumption): mounting needs it.
 */
public final class SmallDisk implements AutoCloseable {
    private final Path dir;

    private SmallDisk(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs of {@code bytes} (rounded up to pages by the kernel). */
    public static SmallDisk mount(long bytes) throws IOException {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "mounting a tmpfs needs root");
        Path dir = Files.createTempDirectory("bolero-smalldisk-");
        try {
            TestRegistry.run(List.of("mount", "-t", "tmpfs", "-o", "size=" + bytes + ",mode=0700", "bolero-smalldisk", dir.toString()), Map.of());
        } catch (IOException e) {
            Files.deleteIfExists(dir);
            throw e;
        }
        return new SmallDisk(dir);
    }

    /** The mount point. */
    public Path path() {
        return dir;
    }

    /** Changes the file system's size (a full disk that was cleaned up, or one that filled). */
    public void resize(long bytes) throws IOException {
        TestRegistry.run(List.of("mount", "-o", "remount,size=" + bytes, dir.toString()), Map.of());
    }

    @Override
    public void close() throws IOException {
        try {
            TestRegistry.run(List.of("umount", dir.toString()), Map.of());
        } catch (IOException e) {
            TestRegistry.run(List.of("umount", "-l", dir.toString()), Map.of());
        }
        Files.delete(dir);
    }
}
