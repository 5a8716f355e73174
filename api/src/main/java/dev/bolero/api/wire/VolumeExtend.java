package dev.bolero.api.wire;

import dev.bolero.core.FieldPath;

/**
 * Body of {@code PUT /v1/namespaces/{ns}/volumes/{volume}/extend}: the volume's new size. A volume only grows.
 *
 * @param sizeGb the new size in GiB, 1 to {@link VolumeSpec#MAX_SIZE_GB}; at least the current size
 */
public record VolumeExtend(Integer sizeGb) {
    public VolumeExtend {
        VolumeSpec.checkSize(FieldPath.root().field("size_gb"), sizeGb);
    }
}
