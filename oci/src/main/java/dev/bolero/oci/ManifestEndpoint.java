package dev.bolero.oci;

import dev.bolero.core.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Optional;

/**
 * {@code GET /v2/<name>/manifests/<reference>}. The body's sha256 is the manifest digest; when the reference is a
 * digest, the body must hash to it.
 */
final class ManifestEndpoint implements RegistryEndpoint<ManifestEndpoint.Fetched> {
    /** Manifests are small; anything bigger is refused rather than buffered. */
    static final int MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

    private final String reference;
    private final Optional<Digest> expected;

    /** A manifest as fetched: its digest, its bytes and what they say. */
    record Fetched(Digest digest, byte[] body, Manifests.Manifest manifest) {}

    private ManifestEndpoint(String reference, Optional<Digest> expected) {
        this.reference = reference;
        this.expected = expected;
    }

    static ManifestEndpoint byTag(String tag) {
        return new ManifestEndpoint(tag, Optional.empty());
    }

    static ManifestEndpoint byDigest(Digest digest) {
        return new ManifestEndpoint(digest.toString(), Optional.of(digest));
    }

    @Override
    public String describe() {
        return "manifest " + reference;
    }

    @Override
    public String path(ImageReference image) {
        return image.repository() + "/manifests/" + reference;
    }

    @Override
    public List<String> accept() {
        return Manifests.ACCEPTED;
    }

    @Override
    public Fetched handle(HttpResponse<?> response, InputStream content) throws IOException, PullException {
        byte[] body = content.readNBytes(MAX_MANIFEST_BYTES + 1);
        if (body.length > MAX_MANIFEST_BYTES) {
            throw new PullException(describe() + " is larger than " + MAX_MANIFEST_BYTES + " bytes");
        }
        return verify(body, response.headers().firstValue("Content-Type").orElse(""),
                response.headers().firstValue("Docker-Content-Digest"));
    }

    /** Checks the body against the asked-for digest (and the registry's Docker-Content-Digest) and parses it. */
    Fetched verify(byte[] body, String contentType, Optional<String> registryDigest) throws PullException {
        Digest actual = Sha256.of(body);
        if (expected.isPresent() && !expected.get().equals(actual)) {
            throw new PullException(describe() + " failed verification: its content has digest " + actual);
        }
        if (registryDigest.isPresent() && registryDigest.get().startsWith("sha256:")
                && !registryDigest.get().equals(actual.toString())) {
            throw new PullException(describe() + " failed verification: registry says " + registryDigest.get()
                    + " but its content has digest " + actual);
        }
        return new Fetched(actual, body, Manifests.parse(body, contentType));
    }
}
