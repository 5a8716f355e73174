package dev.bolero.oci;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Builds an ext4 image from a directory tree with {@code mkfs.ext4 -d}: no journal and no metadata checksums (the
 * drive is read-only to machines and rebuilt rather than repaired), root owned by 0:0, 4 KiB blocks, 256-byte
 * inodes, no reserved blocks. Sized from the tree with headroom for metadata, plus the configured free space.
 */
final class RootDriveBuilder {
    static final long BLOCK = 4096;
    private static final long MIB = 1024 * 1024;
    private static final long FIXED_OVERHEAD = 16 * MIB;
    private static final long INODE_SIZE = 256;
    private static final long BYTES_PER_FREE_INODE = 16 * 1024;
    private static final long MKFS_TIMEOUT_MINUTES = 30;
    private static final List<Path> SBIN = List.of(Path.of("/usr/sbin"), Path.of("/sbin"));

    private RootDriveBuilder() {}

    /** What a tree needs: data blocks and inodes. */
    record Usage(long bytes, long entries) {}

    static Usage measure(Path tree) throws IOException {
        long[] totals = new long[2];
        Files.walkFileTree(tree, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                totals[0] += BLOCK;
                totals[1]++;
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                totals[0] += roundUp(attrs.size(), BLOCK);
                totals[1]++;
                return FileVisitResult.CONTINUE;
            }
        });
        return new Usage(totals[0], totals[1]);
    }

    /**
     * Builds {@code output} from {@code tree}.
     *
     * @return the drive's size in bytes
     * @throws PullException if mkfs.ext4 is missing or fails (its output is in the message)
     */
    static long build(Path tree, Path output, long freeBytes) throws PullException, IOException {
        Usage usage = measure(tree);
        long inodes = usage.entries() + usage.entries() / 4 + freeBytes / BYTES_PER_FREE_INODE + 256;
        long bytes = roundUp(usage.bytes() + usage.bytes() / 10 + inodes * INODE_SIZE + FIXED_OVERHEAD + freeBytes, MIB);
        List<String> command = List.of(mkfs(), "-q", "-F", "-d", tree.toString(), "-O", "^has_journal,^metadata_csum",
                "-E", "root_owner=0:0,nodiscard", "-L", "rootfs", "-b", Long.toString(BLOCK), "-I", Long.toString(INODE_SIZE),
                "-N", Long.toString(inodes), "-m", "0", output.toString(), (bytes / 1024) + "k");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            process.getOutputStream().close();
            String out;
            try (var in = process.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
            }
            if (!process.waitFor(MKFS_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                throw new PullException("mkfs.ext4 did not finish within " + MKFS_TIMEOUT_MINUTES + " minutes");
            }
            if (process.exitValue() != 0) {
                throw new PullException("mkfs.ext4 failed (exit " + process.exitValue() + "): " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PullException("interrupted while building the root drive", e);
        } finally {
            process.destroyForcibly();
        }
        return Files.size(output);
    }

    private static String mkfs() throws PullException {
        return Stream.concat(SBIN.stream(), Stream.of(System.getenv().getOrDefault("PATH", "").split(":")).filter(s -> !s.isEmpty()).map(Path::of))
                .map(dir -> dir.resolve("mkfs.ext4"))
                .filter(Files::isExecutable)
                .findFirst()
                .map(Path::toString)
                .orElseThrow(() -> new PullException("mkfs.ext4 not found (install e2fsprogs)"));
    }

    private static long roundUp(long value, long unit) {
        return (value + unit - 1) / unit * unit;
    }
}
