package dev.bolero.oci;

import dev.bolero.core.Digest;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * An image whose root drive this node has built.
 *
 * @param digest the image manifest's digest (the drive is built once per digest)
 * @param references the references it was pulled or imported as, normalised ({@code docker.io/library/x:1})
 * @param imported whether it came from {@link ImageStore#importImage} rather than a registry
 * @param rootDrive the shared ext4 drive
 * @param rootDriveBytes the drive's size in bytes (its apparent size: the file is sparse)
 * @param builtAt when the drive was built
 */
public record StoredImage(Digest digest, List<String> references, boolean imported, Path rootDrive, long rootDriveBytes,
        Instant builtAt) {
    public StoredImage {
        Objects.requireNonNull(digest, "digest");
        references = List.copyOf(references);
        Objects.requireNonNull(rootDrive, "rootDrive");
        Objects.requireNonNull(builtAt, "builtAt");
    }
}
