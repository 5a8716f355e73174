package dev.bolero.server.cluster;

import dev.bolero.api.ApiException;
import dev.bolero.api.MachineState;
import dev.bolero.api.StopRequest;
import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.Tx;
import dev.bolero.api.wire.ClusterMachine;
import dev.bolero.api.wire.CreateMachineSpec;
import dev.bolero.api.wire.Fleet;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.api.wire.Namespace;
import dev.bolero.api.wire.NamespaceSpec;
import dev.bolero.api.wire.TokenResponse;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Namespaces, their tokens, fleets and machines. Callers have already checked that the caller may see the namespace;
 * every method throws {@link ApiException} ({@code not_found}, {@code conflict}, {@code failed_precondition},
 * {@code timeout}) naming the action and the object.
 */
public final class ControlPlane {
    private final ServerStore store;
    private final Clock clock;
    private final Changes changes;
    private final Placements placements;

    ControlPlane(ServerStore store, Clock clock, Changes changes, Placements placements) {
        this.store = store;
        this.clock = clock;
        this.changes = changes;
        this.placements = placements;
    }

    public Namespace createNamespace(NamespaceSpec spec) {
        String action = "create namespace " + spec.name();
        return store.write(action, tx -> {
            if (tx.namespace(spec.name()).isPresent()) throw ApiException.conflict(action + ": already exists");
            tx.insertNamespace(spec.name(), clock.instant());
            return tx.namespace(spec.name()).orElseThrow();
        });
    }

    public List<Namespace> namespaces() {
        return store.read("list namespaces", Tx::namespaces);
    }

    /** The namespace, if it exists. */
    public Optional<Namespace> namespace(String name) {
        return store.read("get namespace " + name, tx -> tx.namespace(name));
    }

    /** A new token of {@code namespace}; the only time it is shown. */
    public TokenResponse createToken(String namespace) {
        String token = Tokens.generate();
        store.update("create token in namespace " + namespace, tx -> {
            tx.insertToken("ns-" + Tokens.id(), Tokens.hash(token), "namespace", namespace, null, clock.instant());
            return null;
        });
        return new TokenResponse(token);
    }

    public Fleet createFleet(String namespace, FleetSpec spec) {
        if (spec.name() == null) throw ApiException.invalid("create fleet: name is required");
        String action = "create fleet " + namespace + "/" + spec.name();
        return store.write(action, tx -> {
            if (tx.fleet(namespace, spec.name()).isPresent()) throw ApiException.conflict(action + ": already exists");
            tx.insertFleet(namespace, spec, clock.instant());
            return tx.fleet(namespace, spec.name()).orElseThrow();
        });
    }

    /**
     * Replaces the fleet's spec, bumping its config version when the machine config changes. Machines created
     * afterwards use the new config; existing ones keep their config and their placement until they are placed again.
     */
    public Fleet updateFleet(String namespace, String name, FleetSpec spec) {
        if (spec.name() != null && !spec.name().equals(name)) {
            throw ApiException.invalid("update fleet " + namespace + "/" + name + ": name cannot change (got '"
                    + spec.name() + "')");
        }
        var named = new FleetSpec(name, spec.strategy(), spec.region(), spec.nodeLabels(), spec.config());
        String action = "update fleet " + namespace + "/" + name;
        return store.write(action, tx -> {
            Fleet old = tx.fleet(namespace, name).orElseThrow(() -> notFound(action, "fleet", name));
            tx.updateFleet(namespace, named, !java.util.Objects.equals(old.config(), named.config()), clock.instant());
            return tx.fleet(namespace, name).orElseThrow();
        });
    }

    public Fleet fleet(String namespace, String name) {
        String action = "get fleet " + namespace + "/" + name;
        return store.read(action, tx -> tx.fleet(namespace, name)).orElseThrow(() -> notFound(action, "fleet", name));
    }

    public List<Fleet> fleets(String namespace) {
        return store.read("list fleets of " + namespace, tx -> tx.fleets(namespace));
    }

    /** Deletes an empty fleet; one with machines is a {@code conflict}. */
    public void deleteFleet(String namespace, String name) {
        String action = "delete fleet " + namespace + "/" + name;
        store.write(action, tx -> {
            if (tx.fleet(namespace, name).isEmpty()) throw notFound(action, "fleet", name);
            int machines = tx.fleetMachineCount(namespace, name);
            if (machines > 0) throw ApiException.conflict(action + ": it still has " + machines + " machines");
            tx.deleteFleet(namespace, name);
            return null;
        });
    }

    /**
     * Creates a machine from the fleet's config with {@code body}'s fields over it ({@link CreateMachineSpec#over}) and
     * places it on a node in the same step.
     *
     * @throws ApiException {@code invalid_argument} when neither the body nor the fleet's config names an image,
     *     {@code failed_precondition} with the scheduler's reason when no node can take it
     */
    public ClusterMachine createMachine(String namespace, String fleetName, CreateMachineSpec body) {
        Fleet fleet = fleet(namespace, fleetName);
        CreateMachineSpec spec = fleet.config() == null ? body : body.over(fleet.config());
        String id = Tokens.id();
        String name = spec.name() == null ? "m-" + id : spec.name();
        String action = "create machine " + name + " in " + namespace + "/" + fleetName;
        if (spec.image() == null) {
            throw ApiException.invalid(action + ": image is required: neither the body nor the fleet's config sets one");
        }
        Instant now = clock.instant();
        var row = new MachineRow(id, namespace, fleetName, name, spec.config(namespace),
                spec.region() != null ? spec.region() : fleet.region(),
                spec.nodeLabels() != null ? spec.nodeLabels() : fleet.nodeLabels(),
                spec.startNow() ? "running" : "stopped", null, 1, null, MachineState.CREATED, null, null, null, 0,
                now, now, fleet.configVersion());
        var result = placements.place(action, id, Placements.request(row, fleet.strategy()), (tx, nodeId) -> {
            if (tx.liveMachineNamed(namespace, name)) {
                throw ApiException.conflict(action + ": a machine of that name exists");
            }
            tx.insertMachine(new MachineRow(id, namespace, fleetName, name, row.config(), row.region(),
                    row.nodeLabels(), row.desiredState(), null, 1, nodeId, MachineState.CREATED, null,
                    null, null, tx.index(), now, now, row.configVersion()));
            tx.touchAssignments(nodeId);
            return true;
        });
        return switch (result) {
            case Placements.Result.Refused refused -> throw Placements.refused(action, refused);
            case Placements.Result.Placed placed -> {
                changes.signal(List.of(placed.nodeId()));
                yield machine(namespace, id);
            }
            case Placements.Result.Skipped skipped -> throw new IllegalStateException(action + ": commit skipped");
        };
    }

    public ClusterMachine machine(String namespace, String id) {
        return live(namespace, id, "get machine " + id).toWire();
    }

    /** The namespace's machines, optionally of one fleet and in one of {@code states} (all when empty). */
    public List<ClusterMachine> machines(String namespace, Optional<String> fleet, Set<MachineState> states) {
        return store.read("list machines of " + namespace, tx -> tx.machines(namespace, fleet)).stream()
                .filter(m -> states.isEmpty() || states.contains(m.observedState()))
                .map(MachineRow::toWire).toList();
    }

    /** Asks the machine's node to start it; a machine without a node is placed first when one can take it. */
    public ClusterMachine start(String namespace, String id) {
        String action = "start machine " + id;
        MachineRow machine = change(namespace, id, action, "running", null);
        if (machine.nodeId() == null) placeWaiting(machine);
        return machine(namespace, id);
    }

    /** Asks the machine's node to stop it with {@code stop}. */
    public ClusterMachine stop(String namespace, String id, StopRequest stop) {
        change(namespace, id, "stop machine " + id, "stopped", stop);
        return machine(namespace, id);
    }

    /** Deletes the machine: it disappears from the API now and from its node at the node's next poll. */
    public void delete(String namespace, String id) {
        MachineRow machine = change(namespace, id, "delete machine " + id, "destroyed", null);
        if (machine.nodeId() == null) {
            store.update("delete machine " + id, tx -> {
                tx.purge(id);
                return null;
            });
        }
    }

    /**
     * Waits until the machine's reported state is one of {@code states}.
     *
     * @throws ApiException {@code timeout} when {@code timeout} passes first, {@code not_found} when it is deleted
     */
    public ClusterMachine await(String namespace, String id, Set<MachineState> states, Duration timeout)
            throws InterruptedException {
        Instant deadline = clock.instant().plus(timeout);
        while (true) {
            ClusterMachine machine = machine(namespace, id);
            if (states.contains(machine.state())) return machine;
            Duration left = Duration.between(clock.instant(), deadline);
            if (left.isNegative() || left.isZero()) {
                throw ApiException.timeout("wait for machine " + id + ": still " + machine.state().wireName()
                        + " after " + timeout.toSeconds() + " s");
            }
            changes.await(left.compareTo(Duration.ofSeconds(1)) < 0 ? left : Duration.ofSeconds(1));
        }
    }

    /** Places a machine that wants to run and has no node; records the refusal on it when none can take it. */
    void placeWaiting(MachineRow machine) {
        String action = "place machine " + machine.id();
        var strategy = store.read(action, tx -> tx.fleet(machine.namespace(), machine.fleet()))
                .map(Fleet::strategy).orElse(dev.bolero.api.wire.FleetStrategy.DEFAULT);
        var result = placements.place(action, machine.id(), Placements.request(machine, strategy), (tx, nodeId) -> {
            var now = tx.machine(machine.id());
            if (now.isEmpty() || now.get().nodeId() != null || !now.get().desiredState().equals("running")) {
                return false;
            }
            tx.assign(machine.id(), nodeId, null, clock.instant());
            tx.touchAssignments(nodeId);
            return true;
        });
        switch (result) {
            case Placements.Result.Placed placed -> changes.signal(List.of(placed.nodeId()));
            case Placements.Result.Refused refused -> store.update(action, tx ->
                    tx.setError(machine.id(), "awaiting a node: " + refused.reason(), clock.instant()));
            case Placements.Result.Skipped skipped -> { }
        }
    }

    private MachineRow change(String namespace, String id, String action, String desired, StopRequest stop) {
        MachineRow changed = store.write(action, tx -> {
            MachineRow machine = live(tx, namespace, id, action);
            tx.setDesired(id, desired, stop, clock.instant());
            if (machine.nodeId() != null) tx.touchAssignments(machine.nodeId());
            return machine;
        });
        changes.signal(changed.nodeId() == null ? List.of() : List.of(changed.nodeId()));
        return changed;
    }

    private MachineRow live(String namespace, String id, String action) {
        return store.read(action, tx -> live(tx, namespace, id, action));
    }

    static MachineRow live(Tx tx, String namespace, String id, String action) throws SQLException {
        return tx.machine(id)
                .filter(m -> m.namespace().equals(namespace) && !m.desiredState().equals("destroyed"))
                .orElseThrow(() -> notFound(action, "machine", id));
    }

    private static ApiException notFound(String action, String kind, String name) {
        return ApiException.notFound(action + ": no " + kind + " " + name);
    }
}
