package dev.bolero.api.wire;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** What a namespace's {@link Quota} limits: each a field of the quota and of its {@link QuotaUsage}. */
public enum QuotaResource {
    /** Live machines (not deleted), whatever their state. */
    MACHINES,
    /** The vCPUs of those machines ({@code config.guest.cpus}). */
    VCPUS,
    /** Their guest memory in MiB ({@code config.guest.memory_mb}). */
    MEMORY_MIB,
    /** Volumes. */
    VOLUMES,
    /** The volumes' sizes in GiB. */
    VOLUME_GIB;

    /** The wire name: lowercase, as the quota's field. */
    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** This resource's limit in {@code quota}; empty: unlimited. */
    public java.util.OptionalLong limit(Quota quota) {
        Integer limit = switch (this) {
            case MACHINES -> quota.machines();
            case VCPUS -> quota.vcpus();
            case MEMORY_MIB -> quota.memoryMib();
            case VOLUMES -> quota.volumes();
            case VOLUME_GIB -> quota.volumeGib();
        };
        return limit == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(limit);
    }

    /** How much of this resource {@code usage} counts. */
    public long of(QuotaUsage usage) {
        return switch (this) {
            case MACHINES -> usage.machines();
            case VCPUS -> usage.vcpus();
            case MEMORY_MIB -> usage.memoryMib();
            case VOLUMES -> usage.volumes();
            case VOLUME_GIB -> usage.volumeGib();
        };
    }
}
