package dev.bolero.api.wire;

import dev.bolero.api.ApiException;
import dev.bolero.core.FieldPath;
import dev.bolero.core.MachineSpec;

/**
 * Body of {@code POST /v1/namespaces/{ns}/volumes}: a new, empty volume. It lives on no node until the first machine
 * that mounts it is placed; it is created on that machine's node.
 *
 * @param name its name in the namespace, as machines' {@code config.mounts[].volume} name it
 *     ({@link MachineSpec.Mount#checkVolumeName})
 * @param sizeGb its size in GiB, 1 to {@link #MAX_SIZE_GB}
 * @param region the region its node must be in; null: any
 * @param snapshot the id of a snapshot to restore into it (it then lives on that snapshot's node, and is at least as
 *     large as the snapshot); null: an empty volume
 * @throws ApiException {@code invalid_argument} naming the bad field
 */
public record VolumeSpec(String name, Integer sizeGb, String region, String snapshot) {
    /** The largest volume: 16 TiB. */
    public static final int MAX_SIZE_GB = 16384;

    public VolumeSpec {
        MachineSpec.Mount.checkVolumeName(FieldPath.root().field("name"), name);
        checkSize(FieldPath.root().field("size_gb"), sizeGb);
        if (region != null && region.isBlank()) throw ApiException.invalid("region must not be blank");
        if (snapshot != null && snapshot.isBlank()) throw ApiException.invalid("snapshot must not be blank");
    }

    /** An empty volume. */
    public VolumeSpec(String name, Integer sizeGb, String region) {
        this(name, sizeGb, region, null);
    }

    /** Checks a size in GiB at {@code at}: 1 to {@link #MAX_SIZE_GB}. */
    static int checkSize(FieldPath at, Integer sizeGb) {
        return at.between(at.required(sizeGb), 1, MAX_SIZE_GB);
    }
}
