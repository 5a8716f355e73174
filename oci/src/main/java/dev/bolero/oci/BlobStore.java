package dev.bolero.oci;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.OptionalLong;

/**
 * Content-addressed blobs under {@code DIR/blobs/sha256/<hex>}. A blob is streamed to a temporary file in the same
 * directory, hashed on the way, and renamed into place only if its digest (and size, when known) match: a file at a
 * blob's path is always complete and verified. Concurrent fetches of one digest share one download.
 */
final class BlobStore {
    private static final int BUFFER = 64 * 1024;

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
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, ".tmp-" + digest.hex().substring(0, 12) + "-", "");
        try {
            MessageDigest sha = Sha256.newDigest();
            long total = 0;
            try (OutputStream out = Files.newOutputStream(temp)) {
                byte[] buffer = new byte[BUFFER];
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    total += n;
                    if (size.isPresent() && total > size.getAsLong()) {
                        throw new PullException("blob " + digest + " is longer than its descriptor's " + size.getAsLong() + " bytes");
                    }
                    sha.update(buffer, 0, n);
                    out.write(buffer, 0, n);
                }
            }
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
}
