package dev.bolero.server.cluster;

import dev.bolero.api.ApiException;
import dev.bolero.api.wire.QuotaUsage;
import dev.bolero.api.wire.Volume;
import dev.bolero.api.wire.VolumeExtend;
import dev.bolero.api.wire.VolumeSnapshot;
import dev.bolero.api.wire.VolumeSpec;
import dev.bolero.core.MachineSpec;
import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.Page;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.Tx;
import java.sql.SQLException;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;

/**
 * A namespace's volumes: block devices that outlive machines. A volume lives on no node until the first machine that
 * mounts it ({@code config.mounts}) is placed; it is created on that machine's node and stays there, so every later
 * machine mounting it is placed on that node. It is attached to at most one machine at a time: from that machine's
 * placement until its node confirms it gone. Its node learns of it through its assignments, which list every volume
 * living on it; a volume absent from them (deleted) is removed from the node. A detached volume's snapshots are copies
 * kept on its node; one seeds a new volume there. Thread-safe.
 */
public final class Volumes {
    private final ServerStore store;
    private final Clock clock;
    private final Changes changes;

    Volumes(ServerStore store, Clock clock, Changes changes) {
        this.store = store;
        this.clock = clock;
        this.changes = changes;
    }

    /**
     * Creates volume {@code spec.name()} in {@code namespace}: empty and on no node yet, or restored from
     * {@code spec.snapshot()} on that snapshot's node.
     *
     * @throws ApiException {@code conflict} when the namespace has a volume of that name; {@code invalid_argument} for
     *     a snapshot it does not have or one larger than the size asked for; {@code quota_exceeded} when the
     *     namespace's quota has no room for another volume or its size
     */
    public Volume create(String namespace, VolumeSpec spec) {
        String action = "create volume " + namespace + "/" + spec.name();
        var created = store.write(action, tx -> {
            String node = null;
            if (spec.snapshot() != null) {
                VolumeSnapshot snapshot = tx.volumes().snapshot(namespace, spec.snapshot()).orElseThrow(() ->
                        ApiException.invalid(action + ": no snapshot " + spec.snapshot() + " in namespace " + namespace));
                if (snapshot.sizeGb() > spec.sizeGb()) {
                    throw ApiException.invalid(action + ": snapshot " + snapshot.id() + " holds " + snapshot.sizeGb()
                            + " GiB, more than size_gb " + spec.sizeGb());
                }
                node = snapshot.nodeId();
            }
            Quotas.check(tx, namespace, QuotaUsage.volumes(1, spec.sizeGb()), action);
            if (!tx.volumes().insert(namespace, "vol_" + Tokens.id(), spec.name(), spec.sizeGb(), spec.region(), node,
                    spec.snapshot(), clock.instant())) {
                throw ApiException.conflict(action + ": it exists");
            }
            if (node != null) tx.nodes().touchAssignments(node);
            return tx.volumes().get(namespace, spec.name()).orElseThrow();
        });
        if (created.nodeId() != null) changes.signal(List.of(created.nodeId()));
        return created;
    }

    /**
     * Takes a snapshot of a detached volume that lives on a node: its node copies the volume's data when its
     * assignments next list the snapshot.
     *
     * @throws ApiException {@code not_found}; {@code conflict} while the volume is attached (a copy of a device in use
     *     would be torn); {@code failed_precondition} for a volume on no node yet (it holds nothing)
     */
    public VolumeSnapshot snapshot(String namespace, String name) {
        String action = "snapshot volume " + namespace + "/" + name;
        String id = "snap_" + Tokens.id();
        var snapshot = store.write(action, tx -> {
            Volume volume = tx.volumes().get(namespace, name)
                    .orElseThrow(() -> ApiException.notFound(action + ": no such volume"));
            if (volume.machineId() != null) {
                throw ApiException.conflict(action + ": it is attached to machine " + volume.machineId()
                        + " (snapshots are taken of detached volumes)");
            }
            if (volume.nodeId() == null) {
                throw ApiException.failedPrecondition(action + ": it lives on no node yet (no machine mounted it)");
            }
            tx.volumes().insertSnapshot(namespace, name, id, volume.nodeId(), volume.sizeGb(), clock.instant());
            tx.nodes().touchAssignments(volume.nodeId());
            return tx.volumes().snapshot(namespace, id).orElseThrow();
        });
        changes.signal(List.of(snapshot.nodeId()));
        return snapshot;
    }

    /**
     * One page of the volume's snapshots, by id.
     *
     * @throws ApiException {@code not_found} for no such volume
     */
    public List<VolumeSnapshot> snapshots(String namespace, String name, Page page) {
        String action = "list snapshots of volume " + namespace + "/" + name;
        return store.read(action, tx -> {
            if (tx.volumes().get(namespace, name).isEmpty()) throw ApiException.notFound(action + ": no such volume");
            return tx.volumes().snapshots(namespace, name, page);
        });
    }

    /** One page of the namespace's volumes, by name. */
    public List<Volume> list(String namespace, Page page) {
        return store.read("list volumes of " + namespace, tx -> tx.volumes().list(namespace, page));
    }

    /** @throws ApiException {@code not_found} */
    public Volume get(String namespace, String name) {
        String action = "get volume " + namespace + "/" + name;
        return store.read(action, tx -> tx.volumes().get(namespace, name))
                .orElseThrow(() -> ApiException.notFound(action + ": no such volume"));
    }

    /**
     * Grows a volume to {@code body.sizeGb()} GiB, attached or not; its node grows the device, and the guest of an
     * attached machine grows its file system when it next mounts it. The same size is a no-op.
     *
     * @throws ApiException {@code not_found}; {@code invalid_argument} when the size is smaller than the volume's;
     *     {@code quota_exceeded} when the namespace's quota has no room for the added GiB
     */
    public Volume extend(String namespace, String name, VolumeExtend body) {
        String action = "extend volume " + namespace + "/" + name + " to " + body.sizeGb() + " GiB";
        var extended = store.write(action, tx -> {
            Volume volume = tx.volumes().get(namespace, name)
                    .orElseThrow(() -> ApiException.notFound(action + ": no such volume"));
            if (body.sizeGb() < volume.sizeGb()) {
                throw ApiException.invalid(action + ": a volume only grows, it has " + volume.sizeGb() + " GiB");
            }
            if (body.sizeGb() > volume.sizeGb()) {
                Quotas.check(tx, namespace, QuotaUsage.volumes(0, body.sizeGb() - volume.sizeGb()), action);
                tx.volumes().resize(namespace, name, body.sizeGb(), clock.instant());
                if (volume.nodeId() != null) tx.nodes().touchAssignments(volume.nodeId());
            }
            return tx.volumes().get(namespace, name).orElseThrow();
        });
        if (extended.nodeId() != null) changes.signal(List.of(extended.nodeId()));
        return extended;
    }

    /**
     * Deletes a detached volume; its node removes its data.
     *
     * @throws ApiException {@code not_found}; {@code conflict} while it is attached to a machine
     */
    public void delete(String namespace, String name) {
        String action = "delete volume " + namespace + "/" + name;
        Volume deleted = store.write(action, tx -> {
            Volume volume = tx.volumes().get(namespace, name)
                    .orElseThrow(() -> ApiException.notFound(action + ": no such volume"));
            if (volume.machineId() != null) {
                throw ApiException.conflict(action + ": it is attached to machine " + volume.machineId()
                        + " (delete the machine first)");
            }
            tx.volumes().delete(namespace, name);
            if (volume.nodeId() != null) tx.nodes().touchAssignments(volume.nodeId());
            return volume;
        });
        if (deleted.nodeId() != null) changes.signal(List.of(deleted.nodeId()));
    }

    /**
     * Where a machine that mounts volumes may run.
     *
     * @param node the node its volumes live on, if any lives on one yet
     * @param region the region the first of its volumes that names one asks for, if any
     */
    record Pin(Optional<String> node, Optional<String> region) {
        static final Pin NONE = new Pin(Optional.empty(), Optional.empty());
    }

    /**
     * Checks that {@code machine} may mount its volumes, read in {@code tx}, and says where it may run: each exists,
     * none is attached to another machine, they live on one node at most and ask for the machine's region.
     *
     * @throws ApiException {@code invalid_argument} naming the mount that cannot be satisfied, or {@code conflict} for
     *     a volume attached to another machine
     */
    static Pin pin(Tx tx, MachineRow machine) throws SQLException {
        List<MachineSpec.Mount> mounts = machine.spec().mounts();
        if (mounts.isEmpty()) return Pin.NONE;
        var byName = new HashMap<String, Volume>();
        for (Volume v : tx.volumes().get(machine.namespace(), mounts.stream().map(MachineSpec.Mount::volume).toList())) {
            byName.put(v.name(), v);
        }
        Optional<String> node = Optional.empty();
        Optional<String> region = Optional.ofNullable(machine.region());
        for (int i = 0; i < mounts.size(); i++) {
            String at = "config.mounts[" + i + "].volume";
            String name = mounts.get(i).volume();
            Volume v = byName.get(name);
            if (v == null) throw ApiException.invalid(at + ": no volume " + name + " in namespace "
                    + machine.namespace());
            if (v.machineId() != null && !v.machineId().equals(machine.id())) {
                throw ApiException.conflict(at + ": volume " + name + " is attached to machine " + v.machineId()
                        + " (a volume is used by one machine at a time)");
            }
            if (v.nodeId() != null) {
                if (node.isPresent() && !node.get().equals(v.nodeId())) {
                    throw ApiException.invalid(at + ": volume " + name + " lives on node " + v.nodeId()
                            + ", another of the machine's volumes on node " + node.get());
                }
                node = Optional.of(v.nodeId());
            }
            if (v.region() != null) {
                if (region.isPresent() && !region.get().equals(v.region())) {
                    throw ApiException.invalid(at + ": volume " + name + " is in region " + v.region()
                            + ", the machine in region " + region.get());
                }
                region = Optional.of(v.region());
            }
        }
        return new Pin(node, region);
    }

    /**
     * Attaches {@code machine}'s volumes to it on {@code nodeId}, where they live from now on, in {@code tx} (the
     * transaction that places it there), after checking again as {@link #pin} does.
     *
     * @throws ApiException as {@link #pin}, or {@code conflict} when a volume meanwhile went to another node
     */
    static void attach(Tx tx, MachineRow machine, String nodeId, java.time.Instant now) throws SQLException {
        Pin pin = pin(tx, machine);
        if (pin.node().isPresent() && !pin.node().get().equals(nodeId)) {
            throw ApiException.conflict("attach volumes of machine " + machine.id() + " on node " + nodeId
                    + ": they live on node " + pin.node().get());
        }
        for (MachineSpec.Mount mount : machine.spec().mounts()) {
            tx.volumes().attach(machine.namespace(), mount.volume(), nodeId, machine.id(), now);
        }
    }
}
