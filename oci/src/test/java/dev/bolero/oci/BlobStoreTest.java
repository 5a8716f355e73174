package dev.bolero.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.core.Digest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlobStoreTest {
    private static final byte[] CONTENT = "the content of a blob".getBytes(StandardCharsets.UTF_8);
    private static final Digest DIGEST = Sha256.of(CONTENT);

    @TempDir
    Path dataDir;

    @Test
    void storesVerifiedContentUnderItsDigest() throws Exception {
        BlobStore store = new BlobStore(dataDir, StoreBudget.unlimited());
        Path path = store.write(DIGEST, OptionalLong.of(CONTENT.length), new ByteArrayInputStream(CONTENT));

        assertThat(path).isEqualTo(dataDir.resolve("blobs/sha256/" + DIGEST.hex()));
        assertThat(Files.readAllBytes(path)).isEqualTo(CONTENT);
        assertThat(store.contains(DIGEST)).isTrue();
        assertThat(blobDirectory()).containsExactly(path);
    }

    @Test
    void aBlobOfKnownSizeOverTheBudgetFailsBeforeItsFirstByteAndABlobOfUnknownSizeWhenItGetsThere() throws Exception {
        BlobStore store = new BlobStore(dataDir, new StoreBudget(CONTENT.length - 1));
        java.io.InputStream untouchable = new java.io.InputStream() {
            @Override
            public int read() {
                throw new AssertionError("read a blob the budget cannot hold");
            }
        };

        assertThatThrownBy(() -> store.write(DIGEST, OptionalLong.of(CONTENT.length), untouchable))
                .isInstanceOf(PullIOException.class)
                .hasMessage("blob " + DIGEST + ": the image store's disk budget of " + (CONTENT.length - 1) + " bytes is used up (0 bytes in use, "
                        + CONTENT.length + " more needed)");
        assertThatThrownBy(() -> store.write(DIGEST, OptionalLong.empty(), new ByteArrayInputStream(CONTENT)))
                .isInstanceOf(PullIOException.class)
                .hasMessageStartingWith("blob " + DIGEST + ": the image store's disk budget of " + (CONTENT.length - 1) + " bytes is used up");
        assertThat(blobDirectory()).as("nothing kept, no temporaries").isEmpty();

        BlobStore roomy = new BlobStore(dataDir, new StoreBudget(CONTENT.length));
        assertThat(roomy.write(DIGEST, OptionalLong.of(CONTENT.length), new ByteArrayInputStream(CONTENT))).exists();
    }

    @Test
    void contentWithAnotherDigestIsRejectedAndNotKept() throws IOException {
        BlobStore store = new BlobStore(dataDir, StoreBudget.unlimited());
        byte[] tampered = CONTENT.clone();
        tampered[0] ^= 1;

        assertThatThrownBy(() -> store.write(DIGEST, OptionalLong.of(tampered.length), new ByteArrayInputStream(tampered)))
                .isInstanceOf(PullException.class)
                .hasMessage("blob " + DIGEST + " failed verification: its content has digest " + Sha256.of(tampered));
        assertThat(store.contains(DIGEST)).isFalse();
        assertThat(blobDirectory()).isEmpty();
    }

    @Test
    void aTruncatedStreamIsRejectedAndNotKept() throws IOException {
        BlobStore store = new BlobStore(dataDir, StoreBudget.unlimited());
        InputStream truncated = new ByteArrayInputStream(CONTENT, 0, 5);

        assertThatThrownBy(() -> store.write(DIGEST, OptionalLong.of(CONTENT.length), truncated))
                .hasMessage("blob " + DIGEST + " is truncated (5 of " + CONTENT.length + " bytes)");
        assertThat(blobDirectory()).isEmpty();
    }

    @Test
    void aTruncatedStreamOfUnknownSizeFailsVerification() throws IOException {
        BlobStore store = new BlobStore(dataDir, StoreBudget.unlimited());
        assertThatThrownBy(() -> store.write(DIGEST, OptionalLong.empty(), new ByteArrayInputStream(CONTENT, 0, 5)))
                .hasMessageContaining("failed verification");
        assertThat(blobDirectory()).isEmpty();
    }

    @Test
    void aStreamLongerThanItsDescriptorIsCutOff() throws IOException {
        BlobStore store = new BlobStore(dataDir, StoreBudget.unlimited());
        assertThatThrownBy(() -> store.write(DIGEST, OptionalLong.of(4), new ByteArrayInputStream(CONTENT)))
                .hasMessage("blob " + DIGEST + " is longer than its descriptor's 4 bytes");
        assertThat(blobDirectory()).isEmpty();
    }

    @Test
    void aStreamThatBreaksLeavesNothingBehind() throws IOException {
        BlobStore store = new BlobStore(dataDir, StoreBudget.unlimited());
        InputStream broken = new InputStream() {
            int left = 3;

            @Override
            public int read() throws IOException {
                if (left-- <= 0) {
                    throw new IOException("connection reset");
                }
                return 'x';
            }
        };
        assertThatThrownBy(() -> store.write(DIGEST, OptionalLong.of(CONTENT.length), broken)).hasMessage("connection reset");
        assertThat(blobDirectory()).isEmpty();
    }

    @Test
    void concurrentRequestsForOneBlobDownloadItOnce() throws Exception {
        BlobStore store = new BlobStore(dataDir, StoreBudget.unlimited());
        AtomicInteger downloads = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        List<Future<Path>> results = new ArrayList<>();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 8; i++) {
                results.add(executor.submit(() -> store.get(DIGEST, () -> {
                    downloads.incrementAndGet();
                    awaitUninterruptibly(release);
                    return store.write(DIGEST, OptionalLong.of(CONTENT.length), new ByteArrayInputStream(CONTENT));
                })));
            }
            while (downloads.get() == 0) {
                Thread.onSpinWait();
            }
            Thread.sleep(100); // let the other seven reach the store while the first download is held
            release.countDown();
            for (Future<Path> result : results) {
                assertThat(result.get()).isEqualTo(store.path(DIGEST));
            }
        }
        assertThat(downloads).hasValue(1);
        assertThat(store.get(DIGEST, () -> {
            throw new AssertionError("a stored blob is not downloaded again");
        })).isEqualTo(store.path(DIGEST));
    }

    @Test
    void aFailedDownloadIsSharedAndCanBeRetried() throws Exception {
        BlobStore store = new BlobStore(dataDir, StoreBudget.unlimited());
        assertThatThrownBy(() -> store.get(DIGEST, () -> {
            throw new PullException("registry unreachable");
        })).hasMessage("registry unreachable");
        assertThat(store.get(DIGEST, () -> store.put(DIGEST, CONTENT))).isEqualTo(store.path(DIGEST));
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private List<Path> blobDirectory() throws IOException {
        Path dir = dataDir.resolve("blobs/sha256");
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.toList();
        }
    }
}
