package dev.bolero.runtime;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real disk that fills up, for the runtime's tests: a tmpfs of a given size on a fresh directory under {@code /tmp}
 * (writing past it fails with ENOSPC). {@link #close()} unmounts it (lazily if busy) and removes the directory: use it
 * in try-with-resources. Skipped (a JUnit assumption) unless the test runs as root.
 */
public final class SmallDisk implements AutoCloseable {
    private final Path dir;

    private SmallDisk(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs of {@code bytes}. */
    public static SmallDisk mount(long bytes) throws IOException {
        assumeTrue("root".equals(System.getProperty("user.name")), "mounting a tmpfs (a small real disk) needs root");
        Path dir = Files.createTempDirectory("bolero-fulldisk-");
        try {
            host("mount", "-t", "tmpfs", "-o", "size=" + bytes + ",mode=0700", "bolero-fulldisk", dir.toString());
        } catch (IOException e) {
            Files.delete(dir);
            throw e;
        }
        return new SmallDisk(dir);
    }

    public Path path() {
        return dir;
    }

    @Override
    public void close() throws IOException {
        try {
            host("umount", dir.toString());
        } catch (IOException e) {
            host("umount", "-l", dir.toString());
        }
        Files.delete(dir);
    }

    private static void host(String... command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            if (process.waitFor() != 0) throw new IOException(String.join(" ", command) + ": " + output);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", command) + ": interrupted", e);
        }
    }
}
