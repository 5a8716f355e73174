package dev.bolero.server.cluster;

import dev.bolero.api.ApiException;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.api.wire.Quota;
import dev.bolero.api.wire.QuotaResource;
import dev.bolero.api.wire.QuotaUsage;
import dev.bolero.core.MachineSpec;
import dev.bolero.server.store.Tx;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The checks of namespaces' quotas ({@link Quota}), each run in the transaction that would grow the namespace: a
 * {@link dev.bolero.server.store.ServerStore#write} transaction, so concurrent requests are checked one after the
 * other against what the ones before committed and together never take a namespace past a limit. A namespace without
 * a quota is not counted at all.
 */
final class Quotas {
    private Quotas() {}

    /**
     * Checks that adding {@code added} to what {@code namespace} holds stays within its quota.
     *
     * @throws ApiException {@code quota_exceeded} naming {@code action}, the namespace, the resource, its limit and
     *     what the request would have made it
     */
    static void check(Tx tx, String namespace, QuotaUsage added, String action) throws SQLException {
        check(tx, namespace, tx.quotas().get(namespace), added, action);
    }

    /**
     * As {@link #check(Tx, String, QuotaUsage, String)}, {@code quota} being the namespace's quota as {@code tx} read
     * it (empty: none).
     */
    static void check(Tx tx, String namespace, Optional<Quota> quota, QuotaUsage added, String action)
            throws SQLException {
        if (quota.isEmpty()) return;
        QuotaUsage now = tx.quotas().usage(namespace);
        check(namespace, quota.get(), now, now.plus(added), action);
    }

    /**
     * Checks that replacing fleet {@code fleet}'s spec {@code old} (null: a new fleet) with {@code updated} keeps
     * {@code namespace} within its quota: a fleet with a {@code count} is counted as that many machines of its config's
     * size (one with {@code counts} as their sum, whatever the regions), one without as the machines it has. What the
     * fleet then creates is checked again, machine by machine, when it is placed ({@link #exceeded}).
     *
     * @throws ApiException {@code quota_exceeded} as {@link #check(Tx, String, QuotaUsage, String)}
     */
    static void checkFleet(Tx tx, String namespace, String fleet, FleetSpec old, FleetSpec updated, String action)
            throws SQLException {
        Optional<Quota> quota = tx.quotas().get(namespace);
        if (quota.isEmpty()) return;
        QuotaUsage has = tx.quotas().usage(namespace, fleet);
        QuotaUsage others = tx.quotas().usage(namespace).minus(has);
        check(namespace, quota.get(), others.plus(target(old, has)), others.plus(target(updated, has)), action);
    }

    /**
     * Why going from {@code before} to {@code after} takes {@code namespace} past {@code quota}, if it does: the
     * resource, its limit and what the change would have made it.
     */
    static Optional<String> exceeded(String namespace, Quota quota, QuotaUsage before, QuotaUsage after) {
        return quota.exceeded(before, after).map(r -> {
            long limit = r.limit(quota).getAsLong();
            return "namespace " + namespace + " is limited to " + limit + " " + unit(r, limit) + "; this would make it "
                    + r.of(after) + " (it has " + r.of(before) + ")";
        });
    }

    /** What one machine of {@code spec} counts. */
    static QuotaUsage of(MachineSpec spec) {
        return QuotaUsage.machines(1, spec.guest().cpus(), spec.guest().memoryMb());
    }

    private static void check(String namespace, Quota quota, QuotaUsage before, QuotaUsage after, String action) {
        exceeded(namespace, quota, before, after).ifPresent(reason -> {
            throw ApiException.quotaExceeded(action + ": " + reason);
        });
    }

    /** What a fleet of {@code spec} counts once it has its count; the machines it {@code has} when it has none. */
    private static QuotaUsage target(FleetSpec spec, QuotaUsage has) {
        if (spec == null) return QuotaUsage.NONE;
        if (spec.scale().isEmpty()) return has;
        MachineSpec.Guest guest = spec.config() == null ? null : spec.config().guest();
        int cpus = guest == null || guest.cpus() == null ? MachineSpec.Guest.DEFAULT_CPUS : guest.cpus();
        int memory = guest == null || guest.memoryMb() == null ? MachineSpec.Guest.DEFAULT_MEMORY_MB
                : guest.memoryMb();
        return QuotaUsage.machines(spec.scale().get().total(), cpus, memory);
    }

    private static String unit(QuotaResource r, long limit) {
        String plural = limit == 1 ? "" : "s";
        return switch (r) {
            case MACHINES -> "machine" + plural;
            case VCPUS -> "vCPU" + plural;
            case MEMORY_MIB -> "MiB of machine memory";
            case VOLUMES -> "volume" + plural;
            case VOLUME_GIB -> "GiB of volumes";
        };
    }
}
