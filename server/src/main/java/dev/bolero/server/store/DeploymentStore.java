package dev.bolero.server.store;

import static dev.bolero.server.store.Statements.JSON;

import dev.bolero.api.wire.DeployPolicy;
import dev.bolero.api.wire.DeployStatus;
import dev.bolero.api.wire.Deployment;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Deployments of fleets, in one {@link Tx}. At most one per fleet is active (a unique index says so). */
public final class DeploymentStore {
    private static final String SELECT = "SELECT id, namespace, fleet, from_version, to_version, policy, status, "
            + "message, created_at, updated_at FROM deployments";
    private static final String ACTIVE = "status IN (" + Statements.literal(DeployStatus.RUNNING.wireName()) + ", "
            + Statements.literal(DeployStatus.ROLLING_BACK.wireName()) + ")";

    private final Statements sql;

    DeploymentStore(Statements sql) {
        this.sql = sql;
    }

    /**
     * Inserts a new deployment.
     *
     * @throws SQLException a unique violation ({@link Statements#uniqueViolation}) when the fleet has an active one
     */
    public void insert(Deployment d) throws SQLException {
        sql.update("INSERT INTO deployments (id, namespace, fleet, from_version, to_version, policy, status, message, "
                + "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)", d.id(), d.namespace(), d.fleet(),
                d.fromVersion(), d.toVersion(), JSON.writeValueAsString(d.policy()), d.status().wireName(),
                d.message(), d.createdAt().toEpochMilli(), d.updatedAt().toEpochMilli());
    }

    public Optional<Deployment> get(String namespace, String id) throws SQLException {
        return sql.one(SELECT + " WHERE namespace = ? AND id = ?", DeploymentStore::deployment, namespace, id);
    }

    /** The fleet's deployments, newest first. */
    public List<Deployment> list(String namespace, String fleet) throws SQLException {
        return sql.all(SELECT + " WHERE namespace = ? AND fleet = ? ORDER BY created_at DESC, id",
                DeploymentStore::deployment, namespace, fleet);
    }

    /** The fleet's active deployment, if any. */
    public Optional<Deployment> active(String namespace, String fleet) throws SQLException {
        return sql.one(SELECT + " WHERE namespace = ? AND fleet = ? AND " + ACTIVE, DeploymentStore::deployment,
                namespace, fleet);
    }

    /** Moves an active deployment to {@code status} with {@code message}; whether it was still active. */
    public boolean transition(String id, DeployStatus status, String message, Instant now) throws SQLException {
        return sql.update("UPDATE deployments SET status = ?, message = ?, updated_at = ? WHERE id = ? AND " + ACTIVE,
                status.wireName(), message, now.toEpochMilli(), id) > 0;
    }

    private static Deployment deployment(ResultSet rs) throws SQLException {
        return new Deployment(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5),
                JSON.readValue(rs.getString(6), DeployPolicy.class), parse(rs.getString(7)), rs.getString(8),
                Instant.ofEpochMilli(rs.getLong(9)), Instant.ofEpochMilli(rs.getLong(10)));
    }

    private static DeployStatus parse(String wire) {
        return DeployStatus.valueOf(wire.toUpperCase(java.util.Locale.ROOT));
    }
}
