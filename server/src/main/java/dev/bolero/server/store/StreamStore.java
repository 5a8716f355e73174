package dev.bolero.server.store;

import static dev.bolero.server.store.Statements.JSON;

import dev.bolero.api.wire.StreamRequest;
import java.net.URI;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import tools.jackson.core.type.TypeReference;

/** Stream requests (logs, events, exec) waiting for a node's agent, in one {@link Tx}. */
public final class StreamStore {
    private static final TypeReference<Map<String, String>> PARAMS = new TypeReference<>() {};

    private final Statements sql;

    StreamStore(Statements sql) {
        this.sql = sql;
    }

    /** Inserts a stream request for {@code nodeId}, held by replica {@code replicaId}. */
    public void insert(String nodeId, StreamRequest stream, String replicaId, Instant now) throws SQLException {
        sql.update("INSERT INTO streams (id, node_id, machine_id, kind, params, body, replica_id, replica_url, "
                + "created_at) VALUES (?,?,?,?,?,?,?,?,?)", stream.id(), nodeId, stream.machineId(), stream.kind(),
                JSON.writeValueAsString(stream.params()), stream.body(), replicaId, stream.server().toString(),
                now.toEpochMilli());
    }

    /** The node's stream requests created after {@code since}, oldest first. */
    public List<StreamRequest> on(String nodeId, Instant since) throws SQLException {
        return sql.all("SELECT id, machine_id, kind, params, body, replica_url FROM streams "
                + "WHERE node_id = ? AND created_at > ? ORDER BY created_at, id",
                rs -> new StreamRequest(rs.getString(1), rs.getString(2), rs.getString(3),
                        JSON.readValue(rs.getString(4), PARAMS), rs.getString(5), URI.create(rs.getString(6))),
                nodeId, since.toEpochMilli());
    }

    /** Deletes a stream request; whether it existed. */
    public boolean delete(String id) throws SQLException {
        return sql.update("DELETE FROM streams WHERE id = ?", id) > 0;
    }

    /** Deletes the stream requests created before {@code before} (left by a replica that died). */
    public void deleteBefore(Instant before) throws SQLException {
        sql.update("DELETE FROM streams WHERE created_at <= ?", before.toEpochMilli());
    }
}
