package dev.bolero.oci;

import dev.bolero.core.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.LongConsumer;

/** {@code GET /v2/<name>/blobs/<digest>}, streamed into the blob store, which verifies it. */
final class BlobEndpoint implements RegistryEndpoint<Path> {
    private final BlobStore store;
    private final Digest digest;
    private final OptionalLong size;
    private final LongConsumer progress;
    private final BlobStore.Reader reader;

    /**
     * @param progress told the bytes stored so far while the blob streams in
     * @param reader reads the content as it streams in ({@link BlobStore#write(Digest, OptionalLong, InputStream,
     *     LongConsumer, BlobStore.Reader)})
     */
    BlobEndpoint(BlobStore store, Digest digest, OptionalLong size, LongConsumer progress, BlobStore.Reader reader) {
        this.store = store;
        this.digest = digest;
        this.size = size;
        this.progress = progress;
        this.reader = reader;
    }

    @Override
    public String describe() {
        return "blob " + digest;
    }

    @Override
    public String path(ImageReference image) {
        return image.repository() + "/blobs/" + digest;
    }

    @Override
    public List<String> accept() {
        return List.of("*/*");
    }

    @Override
    public Path handle(HttpResponse<?> response, InputStream body) throws IOException, PullException {
        return store.write(digest, size, body, progress, reader);
    }
}
