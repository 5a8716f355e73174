package dev.bolero.api;

import java.time.Instant;
import java.util.Objects;

/**
 * A node's template: a machine's memory and device state saved once its workload was up, which machines of the same
 * namespace, image and config ({@code config.warm_start}) start from instead of booting.
 *
 * @param key what it is a template of: a digest of the namespace, the image and the config's guest-visible parts
 * @param image the image's digest
 * @param source the machine it was taken from
 * @param bytes the size of its files
 * @param lastUsedAt when a machine last started from it (or it was taken); the least recently used go first when
 *     the node's templates are over their limits
 */
public record Template(String key, String namespace, String image, String source, Instant takenAt, Instant lastUsedAt,
        long bytes) {
    public Template {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(takenAt, "takenAt");
        Objects.requireNonNull(lastUsedAt, "lastUsedAt");
    }
}
