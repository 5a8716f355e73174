package dev.bolero.oci;

import dev.bolero.core.Digest;
import java.nio.file.Path;
import java.util.Objects;

/**
 * An image ready to boot: its root file system as an ext4 drive, shared read-only by every machine that uses it
 * (machines write to their own copy-on-write overlay, never to this file).
 *
 * @param reference the reference as asked for
 * @param digest the digest of the linux/amd64 image manifest (for a multi-platform image, of the platform's manifest,
 *     not the index); the drive is built once per digest
 * @param config the image's configuration
 * @param rootDrive the ext4 file, {@code DATA_DIR/images/<digest hex>/rootfs.ext4}
 * @param rootDriveBytes the drive's size in bytes
 */
public record PreparedImage(ImageReference reference, Digest digest, ImageConfig config, Path rootDrive, long rootDriveBytes) {
    public PreparedImage {
        Objects.requireNonNull(reference, "reference");
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(rootDrive, "rootDrive");
        if (rootDriveBytes <= 0) {
            throw new IllegalArgumentException("rootDriveBytes must be positive: " + rootDriveBytes);
        }
    }
}
