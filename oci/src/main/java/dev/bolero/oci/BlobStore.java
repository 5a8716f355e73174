package dev.bolero.oci;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.LongConsumer;

/**
 * Content-addressed blobs under {@code DIR/blobs/sha256/<hex>}. A blob is streamed to a temporary file in the same
 * directory, hashed on the way, and renamed into place only if its digest (and size, when known) match: a file at a
 * blob's path is always complete and verified. Concurrent fetches of one digest share one download.
 */
final class BlobStore {
    private static final int BUFFER = 64 * 1024;
    private static final long PROGRESS_STEP = 1024 * 1024;
    private static final String TEMP_PREFIX = ".tmp-";

    private final Path dir;
    private final SingleFlight<Digest> downloads = new SingleFlight<>();

    BlobStore(Path dataDir) {
        this.dir = dataDir.resolve("blobs").resolve("sha256");
    }

    Path path(Digest digest) {
        return dir.resolve(digest.hex());
    }

    boolean contains(Digest digest) {
        return Files.isRegularFile(path(digest));
    }

    /**
     * The blob's path, calling {@code fetcher} if the store lacks it. Concurrent calls for one digest run the
     * fetcher once and all get its result or its failure.
     */
    Path get(Digest digest, SingleFlight.Action fetcher) throws PullException, IOException {
        return downloads.run(digest, () -> contains(digest) ? path(digest) : fetcher.run());
    }

    /** Stores {@code content}, which must hash to {@code digest}. */
    Path put(Digest digest, byte[] content) throws PullException, IOException {
        return write(digest, OptionalLong.of(content.length), new java.io.ByteArrayInputStream(content));
    }

    /**
     * Streams {@code in} into the store as {@code digest}.
     *
     * @throws PullException if the content is longer or shorter than {@code size} or does not hash to {@code digest};
     *     nothing is kept
     */
    Path write(Digest digest, OptionalLong size, InputStream in) throws PullException, IOException {
        return write(digest, size, in, bytes -> { });
    }

    /**
     * Streams {@code in} into the store as {@code digest}, telling {@code progress} the bytes written so far about
     * every {@value #PROGRESS_STEP} bytes and at the end.
     */
    Path write(Digest digest, OptionalLong size, InputStream in, LongConsumer progress) throws PullException, IOException {
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, TEMP_PREFIX + digest.hex().substring(0, 12) + "-", "");
        try {
            MessageDigest sha = Sha256.newDigest();
            long total = 0;
            long reported = 0;
            try (OutputStream out = Files.newOutputStream(temp)) {
                byte[] buffer = new byte[BUFFER];
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    total += n;
                    if (size.isPresent() && total > size.getAsLong()) {
                        throw new PullException("blob " + digest + " is longer than its descriptor's " + size.getAsLong() + " bytes");
                    }
                    sha.update(buffer, 0, n);
                    out.write(buffer, 0, n);
                    if (total - reported >= PROGRESS_STEP) {
                        reported = total;
                        progress.accept(total);
                    }
                }
            }
            progress.accept(total);
            if (size.isPresent() && total < size.getAsLong()) {
                throw new PullException("blob " + digest + " is truncated (" + total + " of " + size.getAsLong() + " bytes)");
            }
            Digest actual = Sha256.of(sha);
            if (!actual.equals(digest)) {
                throw new PullException("blob " + digest + " failed verification: its content has digest " + actual);
            }
            try (var channel = java.nio.channels.FileChannel.open(temp, java.nio.file.StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            Path target = path(digest);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("blob store " + dir + " does not support atomic renames", e);
            }
            return target;
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * Streams {@code in} into the store under whatever digest its content has (for imports, where the name of a blob
     * is not its digest).
     */
    Digest writeUnnamed(InputStream in) throws IOException {
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, TEMP_PREFIX + "import-", "");
        try {
            MessageDigest sha = Sha256.newDigest();
            try (OutputStream out = Files.newOutputStream(temp)) {
                byte[] buffer = new byte[BUFFER];
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    sha.update(buffer, 0, n);
                    out.write(buffer, 0, n);
                }
            }
            Digest digest = Sha256.of(sha);
            Files.move(temp, path(digest), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return digest;
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** The digests of every stored blob. */
    List<Digest> list() throws IOException {
        List<Digest> digests = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return digests;
        }
        try (var files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (!name.startsWith(TEMP_PREFIX) && Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    try {
                        digests.add(Digest.of("sha256", name));
                    } catch (IllegalArgumentException e) {
                        // not a blob: left alone
                    }
                }
            }
        }
        return digests;
    }

    /** Deletes a blob; returns its size, 0 if it was absent. */
    long delete(Digest digest) throws IOException {
        Path file = path(digest);
        try {
            long size = Files.size(file);
            Files.delete(file);
            return size;
        } catch (java.nio.file.NoSuchFileException e) {
            return 0;
        }
    }

    /** Deletes temporary files left by interrupted downloads; only safe while nothing downloads into this store. */
    int sweepTemporaryFiles() throws IOException {
        int removed = 0;
        if (Files.isDirectory(dir)) {
            try (var files = Files.newDirectoryStream(dir, TEMP_PREFIX + "*")) {
                for (Path file : files) {
                    Files.deleteIfExists(file);
                    removed++;
                }
            }
        }
        return removed;
    }
}
