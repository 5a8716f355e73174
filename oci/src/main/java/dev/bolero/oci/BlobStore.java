package dev.bolero.oci;

import dev.bolero.core.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.LongConsumer;

/**
 * Content-addressed blobs under {@code DIR/blobs/sha256/<hex>}. A blob is streamed to a temporary file in the same
 * directory, hashed on the way, and renamed into place only if its digest (and size, when known) match: a file at a
 * blob's path is always complete and verified, and durable: its content is synced before the rename, so a crash
 * leaves either the whole blob at its path or only a temporary that {@link #sweepTemporaryFiles} removes. Concurrent
 * fetches of one digest share one download.
 */
final class BlobStore {
    private static final int BUFFER = 64 * 1024;
    private static final long PROGRESS_STEP = 1024 * 1024;
    private static final String TEMP_PREFIX = ".tmp-";

    private final Path dir;
    private final StoreBudget budget;
    private final SingleFlight<Digest> downloads = new SingleFlight<>();

    /** @param budget claimed for every byte written: a write that would go over it fails and keeps nothing */
    BlobStore(Path dataDir, StoreBudget budget) {
        this.dir = dataDir.resolve("blobs").resolve("sha256");
        this.budget = budget;
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
        return write(digest, size, in, progress, content -> { });
    }

    /** Reads a blob's content while it streams into the store. */
    @FunctionalInterface
    interface Reader {
        void read(InputStream content) throws PullException, IOException;
    }

    /**
     * Streams {@code in} into the store as {@code digest} and, in the same pass, through {@code reader}: the reader
     * sees the content as it arrives, before it is verified. Whatever the reader leaves unread is stored too. The
     * blob is kept only after the whole content checked out, so a reader must treat what it made of the content as
     * provisional until this method returns normally.
     *
     * @throws PullException if the reader fails (the blob is not kept), or as {@link #write(Digest, OptionalLong,
     *     InputStream)}
     * @throws PullIOException if the blob would take the store over its budget: before its first byte is read when its
     *     size is known
     */
    Path write(Digest digest, OptionalLong size, InputStream in, LongConsumer progress, Reader reader)
            throws PullException, IOException {
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, TEMP_PREFIX + digest.hex().substring(0, 12) + "-", "");
        try (StoreBudget.Claim claim = budget.claim("blob " + digest)) {
            if (size.isPresent()) {
                claim.add(size.getAsLong()); // a blob the budget cannot hold fails before its first byte
            }
            MessageDigest sha = Sha256.newDigest();
            long total;
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                Tee tee = new Tee(digest, size, in, sha, out, progress, claim);
                try {
                    reader.read(tee);
                    tee.transferTo(OutputStream.nullOutputStream());
                } catch (Oversized e) {
                    throw new PullException(e.getMessage(), e);
                }
                total = tee.total;
                progress.accept(total);
                if (size.isPresent() && total < size.getAsLong()) {
                    throw new PullException("blob " + digest + " is truncated (" + total + " of " + size.getAsLong() + " bytes)");
                }
                Digest actual = Sha256.of(sha);
                if (!actual.equals(digest)) {
                    throw new PullException("blob " + digest + " failed verification: its content has digest " + actual);
                }
                out.force(false);
            }
            Path target = path(digest);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("blob store " + dir + " does not support atomic renames", e);
            }
            claim.keep();
            return target;
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** The content ran past its descriptor's size. */
    private static final class Oversized extends IOException {
        Oversized(String message) {
            super(message);
        }
    }

    /**
     * Passes a blob's bytes on to its reader, hashing and storing each as it goes, refusing more than its size and
     * claiming from the store's budget what its size did not claim before it is stored.
     */
    private static final class Tee extends ChunkedInputStream {
        private final Digest digest;
        private final OptionalLong size;
        private final InputStream in;
        private final MessageDigest sha;
        private final FileChannel out;
        private final LongConsumer progress;
        private final StoreBudget.Claim claim;
        private long total;
        private long reported;

        Tee(Digest digest, OptionalLong size, InputStream in, MessageDigest sha, FileChannel out, LongConsumer progress,
                StoreBudget.Claim claim) {
            this.digest = digest;
            this.size = size;
            this.in = in;
            this.sha = sha;
            this.out = out;
            this.progress = progress;
            this.claim = claim;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = in.read(buffer, offset, length);
            if (n <= 0) {
                return n;
            }
            total += n;
            if (size.isPresent() && total > size.getAsLong()) {
                throw new Oversized("blob " + digest + " is longer than its descriptor's " + size.getAsLong() + " bytes");
            }
            if (total > claim.claimed()) {
                claim.add(total - claim.claimed()); // a blob of unknown size, claimed as it comes
            }
            sha.update(buffer, offset, n);
            ByteBuffer chunk = ByteBuffer.wrap(buffer, offset, n);
            while (chunk.hasRemaining()) {
                out.write(chunk);
            }
            if (total - reported >= PROGRESS_STEP) {
                reported = total;
                progress.accept(total);
            }
            return n;
        }

        @Override
        public long transferTo(OutputStream sink) throws IOException {
            byte[] buffer = new byte[BUFFER];
            long moved = 0;
            for (int n; (n = read(buffer, 0, buffer.length)) >= 0; ) {
                moved += n;
            }
            return moved;
        }
    }

    /**
     * Streams {@code in} into the store under whatever digest its content has (for imports, where the name of a blob
     * is not its digest).
     */
    Digest writeUnnamed(InputStream in) throws IOException {
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, TEMP_PREFIX + "import-", "");
        try (StoreBudget.Claim claim = budget.claim("an imported blob")) {
            MessageDigest sha = Sha256.newDigest();
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                byte[] buffer = new byte[BUFFER];
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    claim.add(n);
                    sha.update(buffer, 0, n);
                    ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
                    while (chunk.hasRemaining()) {
                        out.write(chunk);
                    }
                }
                out.force(false); // durable before it is at its path, as every blob
            }
            Digest digest = Sha256.of(sha);
            Files.move(temp, path(digest), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            claim.keep();
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

    /** The bytes of every file in the store, temporaries included. */
    long diskBytes() throws IOException {
        long bytes = 0;
        if (Files.isDirectory(dir)) {
            try (var files = Files.newDirectoryStream(dir)) {
                for (Path file : files) {
                    bytes += Files.size(file);
                }
            }
        }
        return bytes;
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
