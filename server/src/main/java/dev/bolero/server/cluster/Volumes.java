package dev.bolero.server.cluster;

import dev.bolero.api.ApiException;
import dev.bolero.api.wire.QuotaUsage;
import dev.bolero.api.wire.Volume;
import dev.bolero.api.wire.VolumeExtend;
import dev.bolero.api.wire.VolumeMoveReport;
import dev.bolero.api.wire.VolumeSnapshot;
import dev.bolero.api.wire.VolumeSnapshotSpec;
import dev.bolero.api.wire.VolumeSpec;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.NodeState;
import dev.bolero.scheduler.NodeView;
import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.NodeRow;
import dev.bolero.server.store.Page;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.Tx;
import java.sql.SQLException;
import java.time.Clock;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A namespace's volumes: block devices that outlive machines. A volume lives on no node until the first machine that
 * mounts it ({@code config.mounts}) is placed; it is created on that machine's node and stays there, so every later
 * machine mounting it is placed on that node. It is attached to at most one machine at a time: from that machine's
 * placement until its node confirms it gone. Its node learns of it through its assignments, which list every volume
 * living on it; a volume absent from them (deleted) is removed from the node.
 *
 * <p>A volume's snapshot is a copy taken on its node (with its file system frozen by the guest of a running machine
 * that mounts it), then copied to one other node, the one up holding the
 * fewest copies (in the volume's region first): that node pulls it in the volume move's block stream (SHA-256 per
 * 1 MiB block, zero blocks as headers, a digest verified at the end; {@link Streams#openVolume} relays it from the
 * snapshot's node), keeps it and {@linkplain #reportCopy reports} the digest, which the store keeps. A snapshot thus
 * outlives the loss of its volume's node: it seeds a new volume on its node, or on a node holding a verified copy when
 * its node is down. Copies rather than a store on the control plane: the control plane's replicas share only their
 * database and keep no files, and node-to-node copies reuse the verified path volume moves use. Thread-safe.
 */
public final class Volumes {
    private static final Logger log = LoggerFactory.getLogger(Volumes.class);
    /** How many pulls of a snapshot copy are tried before it is given up. */
    static final int COPY_ATTEMPTS = 3;

    private final ServerStore store;
    private final Clock clock;
    private final Changes changes;
    private final Streams streams;

    Volumes(ServerStore store, Clock clock, Changes changes, Streams streams) {
        this.store = store;
        this.clock = clock;
        this.changes = changes;
        this.streams = streams;
    }

    /**
     * Creates volume {@code spec.name()} in {@code namespace}: empty and on no node yet, or restored from
     * {@code spec.snapshot()} on the node it was taken on, or, when that node is down or gone, on a node up holding a
     * verified copy of it.
     *
     * @throws ApiException {@code conflict} when the namespace has a volume of that name; {@code invalid_argument} for
     *     a snapshot it does not have or one larger than the size asked for; {@code failed_precondition} when no node
     *     up holds the snapshot; {@code quota_exceeded} when the namespace's quota has no room for another volume or
     *     its size
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
                node = restoreNode(tx, snapshot, action);
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
     * Takes a snapshot of a volume that lives on a node, attached or not: its node copies the volume's data when its
     * assignments next list the snapshot, with the file system frozen by the guest of the running machine that mounts
     * it, if any (FIFREEZE through bolero-init, thawed once the copy is made: the copy is consistent, not torn); then
     * another node, if the cluster has one up, copies that copy. With {@code spec.keep()}, only the newest that many
     * snapshots of the volume are kept: the older ones are deleted as {@link #deleteSnapshot} does.
     *
     * @throws ApiException {@code not_found}; {@code failed_precondition} for a volume on no node yet (it holds
     *     nothing)
     */
    public VolumeSnapshot snapshot(String namespace, String name, VolumeSnapshotSpec spec) {
        String action = "snapshot volume " + namespace + "/" + name;
        var told = new java.util.ArrayList<String>();
        String id = "snap_" + Tokens.id();
        var snapshot = store.write(action, tx -> {
            told.clear(); // a retried transaction starts again
            Volume volume = tx.volumes().get(namespace, name)
                    .orElseThrow(() -> ApiException.notFound(action + ": no such volume"));
            if (volume.nodeId() == null) {
                throw ApiException.failedPrecondition(action + ": it lives on no node yet (no machine mounted it)");
            }
            tx.volumes().insertSnapshot(namespace, name, id, volume.nodeId(), volume.sizeGb(), clock.instant());
            tx.nodes().touchAssignments(volume.nodeId());
            Optional<String> replica = replicaNode(tx, volume);
            if (replica.isPresent()) {
                tx.volumes().insertCopy("cpy_" + Tokens.id(), id, replica.get(), clock.instant());
                tx.nodes().touchAssignments(replica.get());
            }
            VolumeSnapshot taken = tx.volumes().snapshot(namespace, id).orElseThrow();
            told.addAll(nodesOf(taken));
            if (spec.keep() != null) {
                List<VolumeSnapshot> all = tx.volumes().snapshots(namespace, name);
                for (VolumeSnapshot old : all.subList(0, Math.max(0, all.size() - spec.keep()))) {
                    tx.volumes().deleteSnapshot(namespace, old.id());
                    tx.nodes().touchAssignments(nodesOf(old));
                    told.addAll(nodesOf(old));
                }
            }
            return taken;
        });
        changes.signal(told);
        return snapshot;
    }

    /**
     * Deletes snapshot {@code id} of volume {@code name}: the node it was taken on and the nodes holding copies remove
     * their files when their assignments next omit it (a node down does so when it is back).
     *
     * @throws ApiException {@code not_found} for no such volume or no such snapshot of it
     */
    public void deleteSnapshot(String namespace, String name, String id) {
        String action = "delete snapshot " + id + " of volume " + namespace + "/" + name;
        VolumeSnapshot deleted = store.write(action, tx -> {
            VolumeSnapshot snapshot = tx.volumes().snapshot(namespace, id).filter(s -> s.volume().equals(name))
                    .orElseThrow(() -> ApiException.notFound(action + ": no such snapshot"));
            tx.volumes().deleteSnapshot(namespace, id);
            tx.nodes().touchAssignments(nodesOf(snapshot));
            return snapshot;
        });
        changes.signal(nodesOf(deleted));
    }

    /**
     * The stream of snapshot copy {@code copyId}'s blocks, which node {@code nodeId} pulls, from the node the snapshot
     * was taken on.
     *
     * @throws ApiException {@code not_found} when that node has no such copy to pull
     */
    public Streams.Pending copyBlocks(String nodeId, String copyId) {
        String action = "pull snapshot copy " + copyId;
        String[] source = store.read(action, tx -> {
            var copy = tx.volumes().copy(copyId).filter(c -> c.nodeId().equals(nodeId)
                    && c.state() == VolumeSnapshot.State.COPYING)
                    .orElseThrow(() -> ApiException.notFound(action + ": node " + nodeId + " has no such copy to pull"));
            return new String[] {copy.snapshotId(), tx.volumes().snapshotOrigin(copy.snapshotId()).orElseThrow(() ->
                    ApiException.notFound(action + ": its snapshot is gone"))};
        });
        return streams.openVolume(source[1], source[0], copyId, 1);
    }

    /**
     * Records node {@code nodeId}'s report of its pull of snapshot copy {@code copyId}: verified with its digest, or
     * failed, when it is pulled again under a new id up to {@value #COPY_ATTEMPTS} times in all.
     *
     * @throws ApiException {@code not_found} when that node has no such copy to pull
     */
    public void reportCopy(String nodeId, String copyId, VolumeMoveReport report) {
        String action = "report snapshot copy " + copyId;
        String retried = store.write(action, tx -> {
            var copy = tx.volumes().copy(copyId).filter(c -> c.nodeId().equals(nodeId)
                    && c.state() == VolumeSnapshot.State.COPYING)
                    .orElseThrow(() -> ApiException.notFound(action + ": node " + nodeId + " has no such copy to pull"));
            if (report.verified()) {
                tx.volumes().verifyCopy(copyId, report.digest(), clock.instant());
                log.info("snapshot={} copy={} on node {} verified: {} blocks, {} bytes, digest {}", copy.snapshotId(),
                        copyId, nodeId, report.blocks(), report.bytes(), report.digest());
            } else {
                String retry = copy.attempts() < COPY_ATTEMPTS ? "cpy_" + Tokens.id() : null;
                tx.volumes().failCopy(copyId, report.error(), retry, clock.instant());
                log.warn("snapshot={} copy={} on node {} failed ({}): {}", copy.snapshotId(), copyId, nodeId,
                        retry == null ? "given up" : "pulled again as " + retry, report.error());
            }
            tx.nodes().touchAssignments(nodeId);
            return nodeId;
        });
        changes.signal(List.of(retried));
    }

    /** The nodes holding a file of {@code snapshot}: the one it was taken on and those of its copies. */
    private static List<String> nodesOf(VolumeSnapshot snapshot) {
        var nodes = new java.util.ArrayList<>(List.of(snapshot.nodeId()));
        snapshot.copies().forEach(c -> nodes.add(c.nodeId()));
        return nodes;
    }

    /**
     * Where a copy of a snapshot of {@code volume} goes: a node up and ready other than the volume's, in the region of
     * the volume (or of its node) when one is, holding the fewest copies; empty when there is none.
     */
    private static Optional<String> replicaNode(Tx tx, Volume volume) throws SQLException {
        var nodes = tx.nodes().list();
        Optional<String> region = Optional.ofNullable(volume.region()).or(() -> nodes.stream()
                .filter(n -> n.id().equals(volume.nodeId())).findFirst()
                .map(n -> n.labels().get(NodeView.REGION_LABEL)));
        var counts = tx.volumes().copyCounts();
        return nodes.stream()
                .filter(n -> !n.id().equals(volume.nodeId()) && !n.down() && n.adminState() == NodeState.READY)
                .min(Comparator.<NodeRow, Boolean>comparing(n -> !region.map(r -> r.equals(n.labels()
                                .get(NodeView.REGION_LABEL))).orElse(true))
                        .thenComparing(n -> counts.getOrDefault(n.id(), 0))
                        .thenComparing(NodeRow::id))
                .map(NodeRow::id);
    }

    /**
     * Where {@code snapshot} is restored: the node it was taken on while it is up, else a node up holding a verified
     * copy.
     *
     * @throws ApiException {@code failed_precondition} when there is none
     */
    private static String restoreNode(Tx tx, VolumeSnapshot snapshot, String action) throws SQLException {
        var candidates = new java.util.ArrayList<>(List.of(snapshot.nodeId()));
        snapshot.copies().stream().filter(c -> c.state() == VolumeSnapshot.State.VERIFIED)
                .forEach(c -> candidates.add(c.nodeId()));
        for (String node : candidates) {
            if (tx.nodes().get(node).filter(n -> !n.down()).isPresent()) return node;
        }
        throw ApiException.failedPrecondition(action + ": snapshot " + snapshot.id() + " is on node "
                + snapshot.nodeId() + ", which is down or gone, and no node up holds a verified copy of it");
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
     * Grows a volume to {@code body.sizeGb()} GiB, attached or not; its node grows the device, and, when it is
     * attached to a running machine, resizes the machine's drive and has its guest grow the file system at once (no
     * restart; with the QEMU driver); otherwise the guest grows it when it next mounts it. The same size is a no-op.
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
     * Deletes a detached volume and its snapshots; its node removes its data, the nodes holding its snapshots theirs.
     *
     * @throws ApiException {@code not_found}; {@code conflict} while it is attached to a machine
     */
    public void delete(String namespace, String name) {
        String action = "delete volume " + namespace + "/" + name;
        List<String> deleted = store.write(action, tx -> {
            Volume volume = tx.volumes().get(namespace, name)
                    .orElseThrow(() -> ApiException.notFound(action + ": no such volume"));
            if (volume.machineId() != null) {
                throw ApiException.conflict(action + ": it is attached to machine " + volume.machineId()
                        + " (delete the machine first)");
            }
            var told = new java.util.ArrayList<>(tx.volumes().snapshotNodes(namespace, name));
            if (volume.nodeId() != null) told.add(volume.nodeId());
            tx.volumes().delete(namespace, name);
            tx.nodes().touchAssignments(told);
            return told;
        });
        changes.signal(deleted);
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
