package dev.bolero.api;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * An image whose root drive a node has built.
 *
 * @param digest the image manifest's digest ({@code sha256:…}), the image's identity on the node
 * @param references the references it was pulled or imported as
 * @param imported whether it was imported from an archive rather than pulled
 * @param rootDriveBytes the size of its shared ext4 root drive
 * @param builtAt when the drive was built
 * @param machines ids of the machines that use it (a machine is counted from its first start)
 */
public record Image(String digest, List<String> references, boolean imported, long rootDriveBytes, Instant builtAt,
        List<String> machines) {
    public Image {
        Objects.requireNonNull(digest, "digest");
        references = List.copyOf(references);
        Objects.requireNonNull(builtAt, "builtAt");
        machines = List.copyOf(machines);
    }
}
