package dev.bolero.oci;

import dev.bolero.core.Digest;
import java.util.Objects;

/** What a pull reports while it runs: layer transfers, then the drive build. */
public sealed interface PullEvent {
    /**
     * A layer's transfer progressed. Sent when the download starts ({@code bytes == 0}), about every MiB, and once
     * with {@code complete} set; a layer already in the store is reported once, complete.
     *
     * @param size the layer's size from its descriptor
     * @param cached whether the layer was already in the store (nothing downloaded)
     */
    record LayerProgress(Digest layer, long bytes, long size, boolean complete, boolean cached) implements PullEvent {
        public LayerProgress {
            Objects.requireNonNull(layer, "layer");
            if (bytes < 0) {
                throw new IllegalArgumentException("bytes must not be negative: " + bytes);
            }
        }
    }

    /**
     * The root drive of {@code image} is being built from {@code layers} layers: sent before the first layer is
     * unpacked, which overlaps the download of layers not yet in the store (their progress events follow).
     */
    record BuildingDrive(Digest image, int layers) implements PullEvent {
        public BuildingDrive {
            Objects.requireNonNull(image, "image");
        }
    }
}
