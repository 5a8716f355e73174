package dev.bolero.server.store;

import static dev.bolero.server.store.Statements.JSON;

import dev.bolero.api.wire.DeployPolicy;
import dev.bolero.api.wire.DeployStatus;
import dev.bolero.api.wire.DeployStep;
import dev.bolero.api.wire.Deployment;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;

/**
 * Deployments of fleets, each with its steps, in one {@link Tx}. At most one per fleet is active (a unique index says
 * so).
 */
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
     * Inserts a new deployment and its steps.
     *
     * @throws SQLException a unique violation ({@link Statements#uniqueViolation}) when the fleet has an active one
     */
    public void insert(Deployment d) throws SQLException {
        sql.update("INSERT INTO deployments (id, namespace, fleet, from_version, to_version, policy, status, message, "
                + "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)", d.id(), d.namespace(), d.fleet(),
                d.fromVersion(), d.toVersion(), JSON.writeValueAsString(d.policy()), d.status().wireName(),
                d.message(), d.createdAt().toEpochMilli(), d.updatedAt().toEpochMilli());
        for (DeployStep step : d.steps()) record(d.id(), step);
    }

    public Optional<Deployment> get(String namespace, String id) throws SQLException {
        return withSteps(sql.all(SELECT + " WHERE namespace = ? AND id = ?", DeploymentStore::deployment, namespace,
                id)).stream().findFirst();
    }

    /**
     * One page of the fleet's deployments, newest first (by creation, then id): those after deployment
     * {@code page.after()} of that fleet in this order (from the newest when empty).
     */
    public List<Deployment> list(String namespace, String fleet, Page page) throws SQLException {
        return withSteps(sql.all(SELECT + " WHERE namespace = ? AND fleet = ?" + page.sqlNewestFirst("deployments"),
                DeploymentStore::deployment, page.newestFirstArgs(namespace, fleet)));
    }

    /** The fleet's active deployment, if any. */
    public Optional<Deployment> active(String namespace, String fleet) throws SQLException {
        return withSteps(sql.all(SELECT + " WHERE namespace = ? AND fleet = ? AND " + ACTIVE,
                DeploymentStore::deployment, namespace, fleet)).stream().findFirst();
    }

    /** Moves an active deployment to {@code status} with {@code message}; whether it was still active. */
    public boolean transition(String id, DeployStatus status, String message, Instant now) throws SQLException {
        return sql.update("UPDATE deployments SET status = ?, message = ?, updated_at = ? WHERE id = ? AND " + ACTIVE,
                status.wireName(), message, now.toEpochMilli(), id) > 0;
    }

    /** Appends {@code step} to deployment {@code id}'s steps. */
    public void record(String id, DeployStep step) throws SQLException {
        sql.update("INSERT INTO deployment_steps (deployment_id, seq, at, kind, machine_id, message) SELECT ?, "
                + "COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM deployment_steps WHERE deployment_id = ?", id,
                step.at().toEpochMilli(), step.kind().wireName(), step.machineId(), step.message(), id);
    }

    /** {@code deployments}, each with its steps, oldest first. */
    private List<Deployment> withSteps(List<Deployment> deployments) throws SQLException {
        if (deployments.isEmpty()) return deployments;
        var steps = new HashMap<String, List<DeployStep>>();
        for (Deployment d : deployments) steps.put(d.id(), new ArrayList<>());
        sql.all("SELECT deployment_id, at, kind, machine_id, message FROM deployment_steps WHERE deployment_id IN "
                + Statements.placeholders(steps.keySet()) + " ORDER BY deployment_id, seq", rs -> steps.get(
                        rs.getString(1)).add(new DeployStep(Instant.ofEpochMilli(rs.getLong(2)),
                        DeployStep.Kind.parse(rs.getString(3)), rs.getString(4), rs.getString(5))),
                steps.keySet().toArray());
        return deployments.stream().map(d -> new Deployment(d.id(), d.namespace(), d.fleet(), d.fromVersion(),
                d.toVersion(), d.policy(), d.status(), d.message(), d.createdAt(), d.updatedAt(),
                steps.get(d.id()))).toList();
    }

    private static Deployment deployment(ResultSet rs) throws SQLException {
        return new Deployment(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5),
                JSON.readValue(rs.getString(6), DeployPolicy.class), parse(rs.getString(7)), rs.getString(8),
                Instant.ofEpochMilli(rs.getLong(9)), Instant.ofEpochMilli(rs.getLong(10)), List.of());
    }

    private static DeployStatus parse(String wire) {
        return DeployStatus.valueOf(wire.toUpperCase(java.util.Locale.ROOT));
    }
}
