package dev.bolero.server.store;

import dev.bolero.api.wire.SnapshotCopyOrder;
import dev.bolero.api.wire.Volume;
import dev.bolero.api.wire.VolumeMove;
import dev.bolero.api.wire.VolumeMoveOrder;
import dev.bolero.api.wire.VolumeSnapshot;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Volumes, in one {@link Tx}. A volume's machine counts only while that machine's row exists: once its node confirms
 * a deleted machine gone, the row goes and the volume reads as detached, with no write here.
 */
public final class VolumeStore {
    private static final String SELECT = "SELECT v.id, v.name, v.size_gb, v.region, v.node_id, m.id, v.created_at, "
            + "v.updated_at FROM volumes v LEFT JOIN machines m ON m.id = v.machine_id";

    private final Statements sql;

    VolumeStore(Statements sql) {
        this.sql = sql;
    }

    public Optional<Volume> get(String namespace, String name) throws SQLException {
        return sql.one(SELECT + " WHERE v.namespace = ? AND v.name = ?", VolumeStore::volume, namespace, name);
    }

    /** The namespace's volumes named in {@code names} (those that exist). */
    public List<Volume> get(String namespace, Collection<String> names) throws SQLException {
        if (names.isEmpty()) return List.of();
        var args = new java.util.ArrayList<Object>();
        args.add(namespace);
        args.addAll(names);
        return sql.all(SELECT + " WHERE v.namespace = ? AND v.name IN " + Statements.placeholders(names),
                VolumeStore::volume, args.toArray());
    }

    /** One page of the namespace's volumes, by name. */
    public List<Volume> list(String namespace, Page page) throws SQLException {
        return sql.all(SELECT + " WHERE v.namespace = ? AND " + Page.sql("v.name"), VolumeStore::volume,
                page.args(namespace));
    }

    /**
     * Whether any volume, snapshot, snapshot copy or unfinished move concerns node {@code nodeId}: when not,
     * {@link #onNode}, {@link #incomingTo}, {@link #snapshotsKeptOn} and {@link #copiesTo} are all empty for it. One
     * statement, so a poll of a node without volumes does not run those five.
     */
    public boolean concern(String nodeId) throws SQLException {
        return sql.one("SELECT EXISTS (SELECT 1 FROM volumes WHERE node_id = ?) OR EXISTS (SELECT 1 FROM volume_moves "
                + "WHERE to_node = ? AND " + COPYING + ") OR EXISTS (SELECT 1 FROM volume_snapshots "
                + "WHERE node_id = ?) OR EXISTS (SELECT 1 FROM volume_snapshot_copies WHERE node_id = ?)",
                rs -> rs.getBoolean(1), nodeId, nodeId, nodeId, nodeId).orElse(false);
    }

    /** The volumes living on node {@code nodeId}, with their namespaces and the snapshots taken of them there, by id. */
    public List<OnNode> onNode(String nodeId) throws SQLException {
        var snapshots = new java.util.HashMap<String, List<String>>();
        for (String[] s : sql.all("SELECT v.id, s.id FROM volume_snapshots s JOIN volumes v ON v.namespace = "
                + "s.namespace AND v.name = s.volume AND s.node_id = v.node_id WHERE v.node_id = ? ORDER BY s.id",
                rs -> new String[] {rs.getString(1), rs.getString(2)}, nodeId)) {
            snapshots.computeIfAbsent(s[0], k -> new java.util.ArrayList<>()).add(s[1]);
        }
        return sql.all("SELECT namespace, id, name, size_gb, source_snapshot FROM volumes WHERE node_id = ? ORDER BY id",
                rs -> new OnNode(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getString(5),
                        snapshots.getOrDefault(rs.getString(2), List.of())), nodeId);
    }

    /**
     * Inserts a new detached volume; false when the namespace has one of that name.
     *
     * @param nodeId where it lives already (restored from a snapshot there), or null for no node yet
     * @param sourceSnapshot the snapshot it is restored from, or null
     */
    public boolean insert(String namespace, String id, String name, int sizeGb, String region, String nodeId,
                          String sourceSnapshot, Instant now) throws SQLException {
        return sql.update("INSERT INTO volumes (namespace, name, id, size_gb, region, node_id, source_snapshot, "
                + "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (namespace, name) DO NOTHING",
                namespace, name, id, sizeGb, region, nodeId, sourceSnapshot, now.toEpochMilli(),
                now.toEpochMilli()) > 0;
    }

    public void insertSnapshot(String namespace, String volume, String id, String nodeId, int sizeGb, Instant now)
            throws SQLException {
        sql.update("INSERT INTO volume_snapshots (id, namespace, volume, node_id, size_gb, created_at) "
                + "VALUES (?,?,?,?,?,?)", id, namespace, volume, nodeId, sizeGb, now.toEpochMilli());
    }

    /** The snapshots of the namespace's volume {@code volume}, oldest first, with their copies. */
    public List<VolumeSnapshot> snapshots(String namespace, String volume) throws SQLException {
        return withCopies(sql.all(SNAPSHOT + " WHERE namespace = ? AND volume = ? ORDER BY created_at, id",
                VolumeStore::snapshot, namespace, volume));
    }

    /** One page of the snapshots of the namespace's volume {@code volume}, by id, with their copies. */
    public List<VolumeSnapshot> snapshots(String namespace, String volume, Page page) throws SQLException {
        return withCopies(sql.all(SNAPSHOT + " WHERE namespace = ? AND volume = ? AND " + Page.sql("id"),
                VolumeStore::snapshot, page.args(namespace, volume)));
    }

    /** One of the namespace's snapshots, by id, with its copies. */
    public Optional<VolumeSnapshot> snapshot(String namespace, String id) throws SQLException {
        return withCopies(sql.all(SNAPSHOT + " WHERE namespace = ? AND id = ?", VolumeStore::snapshot, namespace, id))
                .stream().findFirst();
    }

    /** The node snapshot {@code id} was taken on. */
    public Optional<String> snapshotOrigin(String id) throws SQLException {
        return sql.one("SELECT node_id FROM volume_snapshots WHERE id = ?", rs -> rs.getString(1), id);
    }

    /** Deletes one of the namespace's snapshots and the records of its copies; whether it existed. */
    public boolean deleteSnapshot(String namespace, String id) throws SQLException {
        return sql.update("DELETE FROM volume_snapshots WHERE namespace = ? AND id = ?", namespace, id) > 0;
    }

    /** The nodes holding a file of a snapshot of the namespace's volume {@code volume}: where each was taken, its copies. */
    public List<String> snapshotNodes(String namespace, String volume) throws SQLException {
        return sql.all("SELECT node_id FROM volume_snapshots WHERE namespace = ? AND volume = ? UNION "
                + "SELECT c.node_id FROM volume_snapshot_copies c JOIN volume_snapshots s ON s.id = c.snapshot_id "
                + "WHERE s.namespace = ? AND s.volume = ?", rs -> rs.getString(1), namespace, volume, namespace, volume);
    }

    /** A snapshot's copy on another node as the control plane drives it. */
    public record CopyRow(String id, String snapshotId, String nodeId, VolumeSnapshot.State state, int attempts) {}

    /** Records a copy of snapshot {@code snapshotId} to be pulled by node {@code nodeId}. */
    public void insertCopy(String id, String snapshotId, String nodeId, Instant now) throws SQLException {
        sql.update("INSERT INTO volume_snapshot_copies (id, snapshot_id, node_id, state, created_at, updated_at) "
                + "VALUES (?,?,?,?,?,?)", id, snapshotId, nodeId, VolumeSnapshot.State.COPYING.name(),
                now.toEpochMilli(), now.toEpochMilli());
    }

    public Optional<CopyRow> copy(String id) throws SQLException {
        return sql.one("SELECT id, snapshot_id, node_id, state, attempts FROM volume_snapshot_copies WHERE id = ?",
                rs -> new CopyRow(rs.getString(1), rs.getString(2), rs.getString(3),
                        VolumeSnapshot.State.valueOf(rs.getString(4)), rs.getInt(5)), id);
    }

    /** Records copy {@code id} verified with {@code digest}. */
    public void verifyCopy(String id, String digest, Instant now) throws SQLException {
        sql.update("UPDATE volume_snapshot_copies SET state = ?, digest = ?, error = NULL, updated_at = ? WHERE id = ?",
                VolumeSnapshot.State.VERIFIED.name(), digest, now.toEpochMilli(), id);
    }

    /** Records copy {@code id}'s failed pull: tried again under id {@code retryId}, or, when that is null, failed. */
    public void failCopy(String id, String error, String retryId, Instant now) throws SQLException {
        sql.update("UPDATE volume_snapshot_copies SET id = COALESCE(?, id), state = ?, error = ?, "
                + "attempts = attempts + CASE WHEN ? IS NULL THEN 0 ELSE 1 END, updated_at = ? WHERE id = ?", retryId,
                (retryId == null ? VolumeSnapshot.State.FAILED : VolumeSnapshot.State.COPYING).name(), error, retryId,
                now.toEpochMilli(), id);
    }

    /** The copies node {@code nodeId} must pull. */
    public List<SnapshotCopyOrder> copiesTo(String nodeId) throws SQLException {
        return sql.all("SELECT id, snapshot_id FROM volume_snapshot_copies WHERE node_id = ? AND state = 'COPYING' "
                + "ORDER BY id", rs -> new SnapshotCopyOrder(rs.getString(1), rs.getString(2)), nodeId);
    }

    /** The snapshots whose file node {@code nodeId} keeps: those taken there and its verified copies, by id. */
    public List<String> snapshotsKeptOn(String nodeId) throws SQLException {
        return sql.all("SELECT id FROM volume_snapshots WHERE node_id = ? UNION SELECT snapshot_id FROM "
                + "volume_snapshot_copies WHERE node_id = ? AND state = 'VERIFIED' ORDER BY 1", rs -> rs.getString(1),
                nodeId, nodeId);
    }

    /** How many snapshot copies each node holds or pulls (nodes with none absent). */
    public java.util.Map<String, Integer> copyCounts() throws SQLException {
        var counts = new java.util.HashMap<String, Integer>();
        for (Object[] row : sql.all("SELECT node_id, COUNT(*) FROM volume_snapshot_copies GROUP BY node_id",
                rs -> new Object[] {rs.getString(1), rs.getInt(2)})) {
            counts.put((String) row[0], (Integer) row[1]);
        }
        return counts;
    }

    /** Forgets the copies held by node {@code nodeId} (removed from the cluster). */
    public void dropCopiesOn(String nodeId) throws SQLException {
        sql.update("DELETE FROM volume_snapshot_copies WHERE node_id = ?", nodeId);
    }

    private List<VolumeSnapshot> withCopies(List<VolumeSnapshot> snapshots) throws SQLException {
        if (snapshots.isEmpty()) return snapshots;
        var ids = snapshots.stream().map(VolumeSnapshot::id).toList();
        var copies = new java.util.HashMap<String, List<VolumeSnapshot.Copy>>();
        for (Object[] row : sql.all("SELECT snapshot_id, node_id, state, digest, error FROM volume_snapshot_copies "
                + "WHERE snapshot_id IN " + Statements.placeholders(ids) + " ORDER BY created_at, node_id",
                rs -> new Object[] {rs.getString(1), new VolumeSnapshot.Copy(rs.getString(2),
                        VolumeSnapshot.State.valueOf(rs.getString(3)), rs.getString(4), rs.getString(5))},
                ids.toArray())) {
            copies.computeIfAbsent((String) row[0], k -> new java.util.ArrayList<>()).add((VolumeSnapshot.Copy) row[1]);
        }
        return snapshots.stream().map(s -> new VolumeSnapshot(s.id(), s.volume(), s.sizeGb(), s.nodeId(),
                s.createdAt(), copies.getOrDefault(s.id(), List.of()))).toList();
    }

    public void resize(String namespace, String name, int sizeGb, Instant now) throws SQLException {
        sql.update("UPDATE volumes SET size_gb = ?, updated_at = ? WHERE namespace = ? AND name = ?", sizeGb,
                now.toEpochMilli(), namespace, name);
    }

    /** Attaches the volume to {@code machineId} on {@code nodeId} (where it lives from now on). */
    public void attach(String namespace, String name, String nodeId, String machineId, Instant now)
            throws SQLException {
        sql.update("UPDATE volumes SET node_id = ?, machine_id = ?, updated_at = ? WHERE namespace = ? AND name = ?",
                nodeId, machineId, now.toEpochMilli(), namespace, name);
    }

    /** Deletes a volume; whether it existed. */
    public boolean delete(String namespace, String name) throws SQLException {
        return sql.update("DELETE FROM volumes WHERE namespace = ? AND name = ?", namespace, name) > 0;
    }

    /** Moves the volume's record to {@code nodeId}: its data lives there from now on. */
    public void relocate(String namespace, String name, String nodeId, Instant now) throws SQLException {
        sql.update("UPDATE volumes SET node_id = ?, updated_at = ? WHERE namespace = ? AND name = ?", nodeId,
                now.toEpochMilli(), namespace, name);
    }

    /**
     * A volume move as the control plane drives it: {@code pass} the one asked for, {@code reportedPass} the last done,
     * {@code stoppedMachine} whether the move stopped its machine for the final pass (so it starts it again, on
     * whichever node ends up with the volume).
     */
    public record MoveRow(String id, String namespace, String volume, String volumeId, String fromNode, String toNode,
                          String machineId, VolumeMove.State state, int pass, int reportedPass, String digest,
                          String error, boolean stoppedMachine, Instant updatedAt) {}

    private static final String MOVE = "SELECT id, namespace, volume, volume_id, from_node, to_node, machine_id, state, "
            + "pass, reported_pass, digest, error, created_at, updated_at, stopped_machine FROM volume_moves";
    /** The states of a move that has not ended. */
    private static final String UNFINISHED = "state IN ('COPYING', 'FINAL_PASS', 'FOLLOWING')";
    /** The states of a move whose target still pulls passes. */
    private static final String COPYING = "state IN ('COPYING', 'FINAL_PASS')";

    /** Inserts a move at its first pass ({@link VolumeMove.State#COPYING}). */
    public void insertMove(String id, String namespace, Volume volume, String toNode, Instant now) throws SQLException {
        sql.update("INSERT INTO volume_moves (id, namespace, volume, volume_id, from_node, to_node, machine_id, state, "
                + "pass, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,1,?,?)", id, namespace, volume.name(),
                volume.id(), volume.nodeId(), toNode, volume.machineId(), VolumeMove.State.COPYING.name(),
                now.toEpochMilli(), now.toEpochMilli());
    }

    public Optional<MoveRow> move(String id) throws SQLException {
        return sql.one(MOVE + " WHERE id = ?", VolumeStore::moveRow, id);
    }

    /** The volume's move that has not ended, if any. */
    public Optional<MoveRow> activeMove(String namespace, String volume) throws SQLException {
        return sql.one(MOVE + " WHERE namespace = ? AND volume = ? AND " + UNFINISHED, VolumeStore::moveRow, namespace,
                volume);
    }

    /** The moves that have not ended and were last marked as driven before {@code cutoff}, oldest first. */
    public List<MoveRow> undrivenMoves(Instant cutoff) throws SQLException {
        return sql.all(MOVE + " WHERE " + UNFINISHED + " AND updated_at < ? ORDER BY created_at, id",
                VolumeStore::moveRow, cutoff.toEpochMilli());
    }

    /** The passes the unfinished moves to {@code nodeId} ask it for. */
    public List<VolumeMoveOrder> incomingTo(String nodeId) throws SQLException {
        return sql.all("SELECT id, volume_id, pass FROM volume_moves WHERE to_node = ? AND " + COPYING + " ORDER BY id",
                rs -> new VolumeMoveOrder(rs.getString(1), rs.getString(2), rs.getInt(3)), nodeId);
    }

    /**
     * One page of the moves of the namespace's volume {@code volume} with their steps, newest first (by creation,
     * then id): those after move {@code page.after()} in this order (from the newest when empty).
     */
    public List<VolumeMove> moves(String namespace, String volume, Page page) throws SQLException {
        var moves = sql.all(MOVE + " WHERE namespace = ? AND volume = ?" + page.sqlNewestFirst("volume_moves"),
                rs -> new Object[] {moveRow(rs), Instant.ofEpochMilli(rs.getLong(13)),
                        Instant.ofEpochMilli(rs.getLong(14))}, page.newestFirstArgs(namespace, volume));
        var out = new java.util.ArrayList<VolumeMove>(moves.size());
        for (Object[] m : moves) {
            MoveRow row = (MoveRow) m[0];
            var steps = sql.all("SELECT at, message FROM volume_move_steps WHERE move_id = ? ORDER BY seq",
                    rs -> new VolumeMove.Step(Instant.ofEpochMilli(rs.getLong(1)), rs.getString(2)), row.id());
            out.add(new VolumeMove(row.id(), row.volume(), row.fromNode(), row.toNode(), row.machineId(), row.state(),
                    row.error(), steps, (Instant) m[1], (Instant) m[2]));
        }
        return out;
    }

    /** Sets the move's state and the pass it asks for; {@code error} why it failed, or null. */
    public void setMove(String id, VolumeMove.State state, int pass, String error, Instant now) throws SQLException {
        sql.update("UPDATE volume_moves SET state = ?, pass = ?, error = ?, updated_at = ? WHERE id = ?", state.name(),
                pass, error, now.toEpochMilli(), id);
    }

    /** Records the target's report of pass {@code pass}: verified with {@code digest}, or failed with {@code error}. */
    public void reportMove(String id, int pass, String digest, String error, Instant now) throws SQLException {
        sql.update("UPDATE volume_moves SET reported_pass = ?, digest = ?, error = COALESCE(error, ?), updated_at = ? "
                + "WHERE id = ?", pass, digest, error, now.toEpochMilli(), id);
    }

    /** Records that the move stopped its machine (before it does), marking the move as driven at {@code now}. */
    public void markMachineStopped(String id, Instant now) throws SQLException {
        sql.update("UPDATE volume_moves SET stopped_machine = 1, updated_at = ? WHERE id = ?", now.toEpochMilli(), id);
    }

    /**
     * Takes over the move as its driver, when it was last marked as driven at {@code seen} (so no other replica took
     * it over meanwhile); whether this did.
     */
    public boolean claimMove(String id, Instant seen, Instant now) throws SQLException {
        return sql.update("UPDATE volume_moves SET updated_at = ? WHERE id = ? AND updated_at = ?", now.toEpochMilli(),
                id, seen.toEpochMilli()) == 1;
    }

    /** Marks the move as still driven at {@code now}. */
    public void touchMove(String id, Instant now) throws SQLException {
        sql.update("UPDATE volume_moves SET updated_at = ? WHERE id = ?", now.toEpochMilli(), id);
    }

    /** Appends a step to the move's history. */
    public void addMoveStep(String id, String message, Instant now) throws SQLException {
        sql.update("INSERT INTO volume_move_steps (move_id, seq, at, message) SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ? "
                + "FROM volume_move_steps WHERE move_id = ?", id, now.toEpochMilli(), message, id);
    }

    private static MoveRow moveRow(ResultSet rs) throws SQLException {
        return new MoveRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                rs.getString(6), rs.getString(7), VolumeMove.State.valueOf(rs.getString(8)), rs.getInt(9),
                rs.getInt(10), rs.getString(11), rs.getString(12), rs.getInt(15) != 0,
                Instant.ofEpochMilli(rs.getLong(14)));
    }

    /** A volume as its node needs it: {@code source} the snapshot it starts from (or null), its snapshots' ids. */
    public record OnNode(String namespace, String id, String name, int sizeGb, String source,
                         List<String> snapshots) {}

    private static final String SNAPSHOT = "SELECT id, volume, size_gb, node_id, created_at FROM volume_snapshots";

    private static VolumeSnapshot snapshot(ResultSet rs) throws SQLException {
        return new VolumeSnapshot(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getString(4),
                Instant.ofEpochMilli(rs.getLong(5)), List.of());
    }

    private static Volume volume(ResultSet rs) throws SQLException {
        return new Volume(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getString(4), rs.getString(5),
                rs.getString(6), Instant.ofEpochMilli(rs.getLong(7)), Instant.ofEpochMilli(rs.getLong(8)));
    }
}
