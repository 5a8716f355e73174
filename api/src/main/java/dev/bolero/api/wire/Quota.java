package dev.bolero.api.wire;

import dev.bolero.core.FieldPath;
import java.util.Optional;

/**
 * A namespace's quota, the body of {@code PUT /v1/namespaces/{ns}/quota}: the most it may hold of each
 * {@link QuotaResource}. A limit left out (null) is unlimited; a namespace nobody set a quota for has
 * {@link #UNLIMITED}. A request that would take the namespace past a limit is refused ({@code 403 quota_exceeded});
 * a limit below what the namespace already holds deletes nothing, it only refuses what would grow that resource.
 *
 * @param machines live machines, 0 to {@value #MAX}
 * @param vcpus their vCPUs in all, 0 to {@value #MAX}
 * @param memoryMib their guest memory in MiB in all, 0 to {@value #MAX}
 * @param volumes volumes, 0 to {@value #MAX}
 * @param volumeGib the volumes' sizes in GiB in all, 0 to {@value #MAX}
 * @throws dev.bolero.core.ValidationException naming the field out of range
 */
public record Quota(Integer machines, Integer vcpus, Integer memoryMib, Integer volumes, Integer volumeGib) {
    /** The largest limit. */
    public static final int MAX = 1_000_000_000;
    /** No limit at all: a namespace's quota until one is set. */
    public static final Quota UNLIMITED = new Quota(null, null, null, null, null);

    public Quota {
        FieldPath root = FieldPath.root();
        root.field("machines").between(machines, 0, MAX);
        root.field("vcpus").between(vcpus, 0, MAX);
        root.field("memory_mib").between(memoryMib, 0, MAX);
        root.field("volumes").between(volumes, 0, MAX);
        root.field("volume_gib").between(volumeGib, 0, MAX);
    }

    /**
     * The first resource (in {@link QuotaResource} order) that a change from {@code before} to {@code after} takes
     * past its limit: one {@code after} holds more of than the limit and more of than {@code before} (a change that
     * does not grow a resource is never refused for it, even over a lowered limit).
     */
    public Optional<QuotaResource> exceeded(QuotaUsage before, QuotaUsage after) {
        for (QuotaResource r : QuotaResource.values()) {
            var limit = r.limit(this);
            if (limit.isPresent() && r.of(after) > limit.getAsLong() && r.of(after) > r.of(before)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }
}
