package dev.bolero.server.cluster;

import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import dev.bolero.api.ForkMachineRequest;
import dev.bolero.api.wire.QuotaUsage;
import dev.bolero.api.wire.FleetStrategy;
import dev.bolero.server.audit.AuditLog;
import dev.bolero.server.secrets.Secrets;
import dev.bolero.server.store.FleetStore;
import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.NodeRow;
import dev.bolero.server.store.Page;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.Tx;
import dev.bolero.api.wire.ClusterMachine;
import dev.bolero.api.wire.CreateClusterMachine;
import dev.bolero.api.wire.UpdateClusterMachine;
import dev.bolero.api.wire.Fleet;
import dev.bolero.api.wire.FleetRegion;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.api.wire.Namespace;
import dev.bolero.api.wire.NamespaceQuota;
import dev.bolero.api.wire.NamespaceSpec;
import dev.bolero.api.wire.Quota;
import dev.bolero.api.wire.TokenInfo;
import dev.bolero.api.wire.TokenResponse;
import dev.bolero.api.wire.TokenSpec;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Namespaces, their tokens, fleets and machines. Callers have already checked that the caller may see the namespace;
 * every method throws {@link ApiException} ({@code not_found}, {@code conflict}, {@code failed_precondition},
 * {@code quota_exceeded}, {@code timeout}) naming the action and the object. Creates and changes that grow a namespace
 * are checked against its quota ({@link Quotas}) in the transaction that commits them.
 */
public final class ControlPlane {
    private final ServerStore store;
    private final Clock clock;
    private final Changes changes;
    private final Placements placements;
    private final Secrets secrets;
    private final TokenCache tokenCache;
    /** At most this many fleets are kept in {@link #admissions}; past that it starts over empty. */
    private static final int ADMISSIONS = 10_000;
    /** How many times a create is made again from a fresh read of its fleet before it gives up. */
    private static final int STALE_ATTEMPTS = 3;
    /**
     * Each fleet as its last create read it ({@link FleetStore#admission}), by namespace and name: the next create in
     * the fleet is made from it without reading the store, and its commit checks that the fleet is still so (made
     * again from a fresh read when not). A quota kept here only refuses after a fresh read confirms it.
     */
    private final Map<List<String>, FleetStore.Admission> admissions =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** Namespaces seen to exist: none is ever deleted, so one seen once exists for good, on every replica. */
    private final Set<String> existing = java.util.concurrent.ConcurrentHashMap.newKeySet();

    ControlPlane(ServerStore store, Clock clock, Changes changes, Placements placements, Secrets secrets,
                 TokenCache tokenCache) {
        this.tokenCache = tokenCache;
        this.store = store;
        this.clock = clock;
        this.changes = changes;
        this.placements = placements;
        this.secrets = secrets;
    }

    public Namespace createNamespace(NamespaceSpec spec) {
        String action = "create namespace " + spec.name();
        return store.write(action, tx -> {
            if (tx.namespaces().get(spec.name()).isPresent()) throw ApiException.conflict(action + ": already exists");
            tx.namespaces().insert(spec.name(), clock.instant());
            return tx.namespaces().get(spec.name()).orElseThrow();
        });
    }

    /** One page of the namespaces, by name. */
    public List<Namespace> namespaces(Page page) {
        return store.read("list namespaces", tx -> tx.namespaces().list(page));
    }

    /** The namespace, if it exists. */
    public Optional<Namespace> namespace(String name) {
        return store.read("get namespace " + name, tx -> tx.namespaces().get(name));
    }

    /**
     * Whether namespace {@code name} exists. Namespaces are never deleted, so one found once is not read again: a
     * request on a namespace path (an admin's: a namespace token names its own) costs no read for it.
     */
    public boolean namespaceExists(String name) {
        if (existing.contains(name)) return true;
        boolean exists = namespace(name).isPresent();
        if (exists) existing.add(name);
        return exists;
    }

    /**
     * The namespace's quota and what it holds now.
     *
     * @throws ApiException {@code not_found} for no such namespace
     */
    public NamespaceQuota quota(String namespace) {
        String action = "get quota of namespace " + namespace;
        return store.read(action, tx -> quota(tx, namespace, action));
    }

    /**
     * Sets the namespace's quota, replacing every limit. A limit below what the namespace holds deletes nothing: it
     * refuses what would grow that resource.
     *
     * @throws ApiException {@code not_found} for no such namespace
     */
    public NamespaceQuota setQuota(String namespace, Quota quota) {
        String action = "set quota of namespace " + namespace;
        return store.write(action, tx -> {
            quota(tx, namespace, action);
            tx.quotas().put(namespace, quota, clock.instant());
            return quota(tx, namespace, action);
        });
    }

    private static NamespaceQuota quota(Tx tx, String namespace, String action) throws SQLException {
        if (tx.namespaces().get(namespace).isEmpty()) throw notFound(action, "namespace", namespace);
        return new NamespaceQuota(namespace, tx.quotas().get(namespace).orElse(Quota.UNLIMITED),
                tx.quotas().usage(namespace));
    }

    /** Mints a token of {@code namespace} as {@code spec} says; the answer is the only time it is shown. */
    public TokenResponse createToken(String namespace, TokenSpec spec) {
        String token = Tokens.generate();
        String id = "ns-" + Tokens.id();
        Instant now = clock.instant();
        Optional<Instant> expires = Optional.ofNullable(spec.expiresInS()).map(now::plusSeconds);
        store.update("create token in namespace " + namespace, tx -> {
            tx.tokens().insertNamespace(id, Tokens.hash(token), namespace, spec.roleOrDefault(), expires,
                    spec.description(), now);
            return null;
        });
        return new TokenResponse(token, id, spec.roleOrDefault(), expires.orElse(null));
    }

    /** One page of the namespace's tokens (never the tokens themselves), by id. */
    public List<TokenInfo> tokens(String namespace, Page page) {
        return store.read("list tokens of " + namespace, tx -> tx.tokens().list(namespace, page));
    }

    /**
     * Revokes the namespace's token {@code id}: it stops working at once on this server, and within
     * {@link TokenCache#TTL} on other servers sharing the store.
     *
     * @throws ApiException {@code not_found} when the namespace has no such token
     */
    public void revokeToken(String namespace, String id) {
        String action = "revoke token " + id + " of " + namespace;
        boolean deleted = store.update(action, tx -> tx.tokens().delete(namespace, id));
        tokenCache.invalidate();
        if (!deleted) throw ApiException.notFound(action + ": no such token");
    }

    public Fleet createFleet(String namespace, FleetSpec spec) {
        if (spec.name() == null) throw ApiException.invalid("create fleet: name is required");
        String action = "create fleet " + namespace + "/" + spec.name();
        checkSecrets(action, namespace, spec.config());
        return store.write(action, tx -> {
            if (tx.fleets().get(namespace, spec.name()).isPresent()) throw ApiException.conflict(action + ": already exists");
            Quotas.checkFleet(tx, namespace, spec.name(), null, spec, action);
            tx.fleets().insert(namespace, spec, clock.instant());
            tx.releases().insert(namespace, spec.name(), 1, spec.config(), clock.instant());
            return withRegions(tx, namespace, Optional.of(spec.name()),
                    List.of(tx.fleets().get(namespace, spec.name()).orElseThrow())).getFirst();
        });
    }

    /**
     * Replaces the fleet's spec; a changed machine config is a new release (its config version). Machines created
     * afterwards use the new config; existing ones keep their config and their placement until they are placed again
     * (a deployment replaces them: {@link Deployments}).
     *
     * @throws ApiException {@code conflict} when the config changes while a deployment of the fleet is active
     */
    public Fleet updateFleet(String namespace, String name, FleetSpec spec) {
        if (spec.name() != null && !spec.name().equals(name)) {
            throw ApiException.invalid("update fleet " + namespace + "/" + name + ": name cannot change (got '"
                    + spec.name() + "')");
        }
        var named = spec.withName(name);
        String action = "update fleet " + namespace + "/" + name;
        checkSecrets(action, namespace, spec.config());
        return store.write(action, tx -> {
            FleetStore.Template old = tx.fleets().template(namespace, name)
                    .orElseThrow(() -> notFound(action, "fleet", name));
            if (!java.util.Objects.equals(old.spec().config(), named.config())) {
                Deployments.refuseActive(tx, namespace, name, action);
            }
            Quotas.checkFleet(tx, namespace, name, old.spec(), named, action);
            long version = Deployments.release(tx, namespace, name, old, named.config(), clock.instant());
            tx.fleets().update(namespace, named, version, clock.instant());
            return withRegions(tx, namespace, Optional.of(name), List.of(tx.fleets().get(namespace, name).orElseThrow()))
                    .getFirst();
        });
    }

    public Fleet fleet(String namespace, String name) {
        String action = "get fleet " + namespace + "/" + name;
        return store.read(action, tx -> {
            Fleet fleet = tx.fleets().get(namespace, name).orElseThrow(() -> notFound(action, "fleet", name));
            return withRegions(tx, namespace, Optional.of(name), List.of(fleet)).getFirst();
        });
    }

    /** One page of the namespace's fleets, by name. */
    public List<Fleet> fleets(String namespace, Page page) {
        return store.read("list fleets of " + namespace, tx -> withRegions(tx, namespace, Optional.empty(),
                tx.fleets().list(namespace, page)));
    }

    /**
     * {@code fleets}, of {@code namespace} (all of them fleet {@code only} when given), each that keeps a size with its
     * regions' shares as the reconciler counts them ({@link Reconciler#shares}), read in {@code tx}.
     */
    private static List<Fleet> withRegions(Tx tx, String namespace, Optional<String> only, List<Fleet> fleets)
            throws SQLException {
        if (fleets.stream().allMatch(f -> f.scale().isEmpty())) return fleets;
        var machines = tx.machines().list(namespace, only).stream()
                .collect(Collectors.groupingBy(MachineRow::fleet));
        var nodeRegions = Reconciler.nodeRegions(tx.nodes().list());
        var waiting = tx.fleets().waiting(namespace, only);
        return fleets.stream().map(f -> f.scale().map(scale -> {
            var why = waiting.getOrDefault(f.name(), Map.of());
            return f.withRegions(Reconciler.shares(scale, machines.getOrDefault(f.name(), List.of()), nodeRegions)
                    .stream().map(share -> new FleetRegion(share.region().orElse(null), share.desired(),
                            share.machines().size(), (int) share.machines().stream().filter(MachineRow::healthy)
                            .count(), why.get(share.region()))).toList());
        }).orElse(f)).toList();
    }

    /** Deletes an empty fleet; one with machines is a {@code conflict}. */
    public void deleteFleet(String namespace, String name) {
        String action = "delete fleet " + namespace + "/" + name;
        store.write(action, tx -> {
            if (tx.fleets().get(namespace, name).isEmpty()) throw notFound(action, "fleet", name);
            int machines = tx.machines().countInFleet(namespace, name);
            if (machines > 0) throw ApiException.conflict(action + ": it still has " + machines + " machines");
            tx.fleets().delete(namespace, name);
            return null;
        });
    }

    /**
     * Creates a machine from {@code body}'s config over the fleet's ({@link CreateClusterMachine#spec}) and places it
     * on a node in the same step. {@code call}, when given, is the API call asking for it, as the audit log records it
     * when it is answered {@code 201}: it is appended in the transaction that commits the machine.
     *
     * @throws ApiException {@code invalid_argument} when neither the body nor the fleet's config names an image,
     *     {@code quota_exceeded} when the namespace's quota has no room for it (checked again when it is committed),
     *     {@code failed_precondition} with the scheduler's reason when no node can take it
     */
    public ClusterMachine createMachine(String namespace, String fleetName, CreateClusterMachine body,
                                        Optional<AuditLog.Call> call) {
        return create(namespace, fleetName, body, call, name -> "create machine " + name + " in " + namespace + "/"
                + fleetName);
    }

    /**
     * Creates and places, as {@link #createMachine} does, one machine that the fleet's size lacks: from its config
     * alone, started, in {@code region} (empty: wherever the fleet's machines may go). Errors name the fleet and the
     * region, not the new machine, so the same failure reads the same on every try.
     */
    ClusterMachine growFleet(String namespace, String fleetName, Optional<String> region) {
        String action = "create a machine of fleet " + namespace + "/" + fleetName
                + region.map(r -> " in region " + r).orElse("");
        return create(namespace, fleetName, region.map(CreateClusterMachine.START::inRegion)
                .orElse(CreateClusterMachine.START), Optional.empty(), name -> action);
    }

    /** {@link #createMachine}, errors naming {@code action} of the new machine's name. */
    private ClusterMachine create(String namespace, String fleetName, CreateClusterMachine body,
                                  Optional<AuditLog.Call> call, java.util.function.UnaryOperator<String> actionOf) {
        String fleetAction = "get fleet " + namespace + "/" + fleetName;
        String id = Tokens.id();
        String name = body.name() == null ? "m-" + id : body.name();
        String action = actionOf.apply(name);
        var key = List.of(namespace, fleetName);
        for (int attempt = 1; ; attempt++) {
            // The fleet as kept from an earlier create (its commit checks it is still so), else read with its
            // namespace's quota in one statement; then what is refused before placing, so that a create past the
            // quota costs a read, not a placement and a write transaction.
            FleetStore.Admission admission = attempt == 1 ? admissions.get(key) : null;
            MachineRow row;
            if (admission != null) {
                FleetStore.Admission kept = admission;
                MachineRow made = made(id, namespace, fleetName, name, body, kept.fleet());
                row = made;
                try {
                    if (checkedInStore(kept, made)) store.read(fleetAction, tx -> admit(tx, action, kept, made));
                } catch (ApiException e) {
                    if (e.code() != ErrorCode.QUOTA_EXCEEDED) throw e;
                    admissions.remove(key, kept); // refused on a kept quota: decided again on a fresh read
                    continue;
                }
            } else {
                record Read(FleetStore.Admission admission, MachineRow row) {}
                Read read = store.read(fleetAction, tx -> {
                    FleetStore.Admission fresh = tx.fleets().admission(namespace, fleetName)
                            .orElseThrow(() -> notFound(fleetAction, "fleet", fleetName));
                    MachineRow made = made(id, namespace, fleetName, name, body, fresh.fleet());
                    return new Read(fresh, admit(tx, action, fresh, made));
                });
                admission = read.admission();
                row = read.row();
                if (admissions.size() >= ADMISSIONS) admissions.clear();
                admissions.put(key, admission);
            }
            var job = new Placements.Job.Create(row, admission.fleet().spec().strategy(), Optional.empty(), call,
                    Optional.of(admission.stored()));
            switch (placements.place(job)) {
                case Placements.Result.Placed placed -> {
                    return row.assignedTo(placed.nodeId(), placed.index()).toWire(placed.nodeName());
                }
                case Placements.Result.Refused refused -> throw Placements.refused(action, refused);
                case Placements.Result.Conflict conflict -> throw ApiException.conflict(action + ": " + conflict.reason());
                case Placements.Result.OverQuota over -> throw ApiException.quotaExceeded(action + ": " + over.reason());
                case Placements.Result.Skipped skipped -> throw new IllegalStateException(action + ": commit skipped");
                case Placements.Result.Stale stale -> {
                    admissions.remove(key, admission);
                    if (attempt >= STALE_ATTEMPTS) {
                        throw ApiException.conflict(action + ": fleet " + namespace + "/" + fleetName + " changed "
                                + "while the machine was made from it, " + attempt + " times; try again");
                    }
                }
            }
        }
    }

    /** The new machine {@code id}: {@code body}'s config over {@code fleet}'s. */
    private MachineRow made(String id, String namespace, String fleetName, String name, CreateClusterMachine body,
                            FleetStore.Template fleet) {
        MachineSpec spec = body.spec(fleet.spec().config());
        // Millisecond instants, as the store keeps them: the answer is the row as a later read returns it.
        return MachineRow.created(id, namespace, fleetName, name, spec,
                body.region() != null ? body.region() : fleet.spec().region(),
                body.nodeLabels() != null ? body.nodeLabels() : fleet.spec().nodeLabels(),
                body.startNow() ? MachineState.RUNNING : MachineState.STOPPED, fleet.configVersion(),
                clock.instant().truncatedTo(ChronoUnit.MILLIS));
    }

    /** Whether admitting {@code row} reads the store: its namespace has a quota, or it names secrets or volumes. */
    private static boolean checkedInStore(FleetStore.Admission admission, MachineRow row) {
        return admission.quota().isPresent() || !row.spec().secrets().isEmpty() || !row.spec().mounts().isEmpty();
    }

    /**
     * Checks in {@code tx} what refuses {@code row} before it is placed: its secrets exist, its namespace's quota
     * (as {@code admission} has it) has room, its volumes can be attached together; returns {@code row}.
     */
    private static MachineRow admit(Tx tx, String action, FleetStore.Admission admission, MachineRow row)
            throws SQLException {
        Secrets.checkExist(tx, action, row.namespace(), row.spec().secrets());
        Quotas.check(tx, row.namespace(), admission.quota(), Quotas.of(row.spec()), action);
        if (!row.spec().mounts().isEmpty()) Volumes.pin(tx, row); // 400/409 before placing
        return row;
    }

    /**
     * Gives the machine a new config under its id: {@code body}'s config over its current one. Its node replaces it
     * (stops it, rebuilds it from the new config and starts it again when it is meant to run); its version goes up.
     *
     * @throws ApiException {@code invalid_argument} when the new config is invalid or changes {@code mounts} (the
     *     machine's volumes are attached where it is), a named secret is missing; {@code quota_exceeded} when the
     *     namespace's quota has no room for the new size; {@code failed_precondition} with the scheduler's reason when
     *     its node cannot hold the new config; {@code conflict} when it changed meanwhile
     */
    public ClusterMachine updateMachine(String namespace, String id, UpdateClusterMachine body) {
        String action = "update machine " + id;
        MachineRow before = live(namespace, id, action);
        MachineSpec spec = body.config().over(before.spec().overlay()).toSpec();
        if (!spec.mounts().equals(before.spec().mounts())) {
            throw ApiException.invalid(action + ": config.mounts cannot change in place (its volumes are attached "
                    + "where it is): create a new machine with the new mounts");
        }
        secrets.checkExist(action, namespace, spec.secrets());
        FleetStrategy strategy = store.read(action, tx -> tx.fleets().template(namespace, before.fleet()))
                .map(t -> t.spec().strategy()).orElse(FleetStrategy.DEFAULT);
        MachineRow updated = store.write(action, tx -> {
            MachineRow current = live(tx, namespace, id, action);
            if (current.version() != before.version() || !current.spec().equals(before.spec())) {
                throw ApiException.conflict(action + ": its config changed meanwhile (version " + current.version()
                        + "); read it and try again");
            }
            Quotas.check(tx, namespace, Quotas.of(spec).minus(Quotas.of(current.spec())), action);
            if (current.nodeId() != null) {
                var fit = current.withSpec(spec);
                placements.refusalInPlace(tx, current, fit, strategy).ifPresent(reason -> {
                    throw ApiException.failedPrecondition(action + ": node " + current.nodeId()
                            + " cannot hold the new config: " + reason);
                });
                tx.nodes().touchAssignments(current.nodeId());
            }
            tx.machines().respec(id, spec, clock.instant());
            return current;
        });
        changes.signal(updated.nodeId() == null ? List.of() : List.of(updated.nodeId()));
        return machine(namespace, id);
    }

    /**
     * Makes {@code count} new machines of the source's fleet, namespace and config (without its published ports,
     * {@link MachineSpec#withoutServices}) from a live snapshot of the running machine {@code id}, which runs on: they
     * are placed on its node (where the snapshot is taken), checked against the namespace's quota as creates are, and
     * resume the source's memory there, each with its own id, name, address, hostname and machine-id. Returns the
     * clones as placed; their node starts them.
     *
     * @throws ApiException {@code invalid_argument} for a count that is not 1 to {@value ForkMachineRequest#MAX_COUNT};
     *     {@code conflict} when the source is not running on a node; {@code failed_precondition} when it has secrets or
     *     volumes, or its node cannot take the clones; {@code quota_exceeded} when the namespace has no room for them.
     *     Clones placed before a refusal (the node filled meanwhile) stay.
     */
    public List<ClusterMachine> fork(String namespace, String id, int count) {
        new ForkMachineRequest(count); // checks it
        String action = "fork machine " + id;
        MachineRow source = live(namespace, id, action);
        if (!source.spec().secrets().isEmpty()) {
            throw ApiException.failedPrecondition(action + ": it has secrets, and its memory (which holds them) would "
                    + "be written to its node's disk in clear");
        }
        if (!source.spec().mounts().isEmpty()) {
            throw ApiException.failedPrecondition(action + ": it has volumes, which its clones cannot share");
        }
        if (source.desiredState() != MachineState.RUNNING || source.nodeId() == null
                || source.observedState() != MachineState.RUNNING) {
            throw ApiException.conflict(action + ": it is not running on a node (it is "
                    + source.observedState().wireName() + ")");
        }
        FleetStrategy strategy = store.read(action, tx -> {
            Quotas.check(tx, namespace, QuotaUsage.machines(count, source.spec().guest().cpus(),
                    source.spec().guest().memoryMb()), action);
            return tx.fleets().template(namespace, source.fleet()).map(f -> f.spec().strategy())
                    .orElseThrow(() -> notFound(action, "fleet", source.fleet()));
        });
        var fork = Optional.of(new Placements.Job.Fork(id, source.nodeId()));
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        List<Placements.Job> jobs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String cloneId = Tokens.id();
            jobs.add(new Placements.Job.Create(MachineRow.created(cloneId, namespace, source.fleet(), "m-" + cloneId,
                    source.spec().withoutServices(), source.region(), source.nodeLabels(), MachineState.RUNNING,
                    source.configVersion(), now), strategy, fork));
        }
        List<Placements.Result> results = placements.placeAll(jobs);
        List<MachineRow> clones = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            MachineRow row = jobs.get(i).machine();
            switch (results.get(i)) {
                case Placements.Result.Placed placed -> clones.add(row.assignedTo(placed.nodeId(), placed.index()));
                case Placements.Result.Refused refused -> throw Placements.refused(action, refused);
                case Placements.Result.Conflict conflict -> throw ApiException.conflict(action + ": " + conflict.reason());
                case Placements.Result.OverQuota over -> throw ApiException.quotaExceeded(action + ": " + over.reason());
                case Placements.Result.Skipped skipped -> throw new IllegalStateException(action + ": commit skipped");
                case Placements.Result.Stale stale -> throw new IllegalStateException(action + ": a clone is checked "
                        + "against no fleet, yet was found stale");
            }
        }
        return store.read(action, tx -> toWire(tx, clones));
    }

    /** Checks that the secrets a fleet's config names exist; a config that names none passes. */
    private void checkSecrets(String action, String namespace, MachineSpec.Overlay config) {
        if (config != null && config.secrets() != null) secrets.checkExist(action, namespace, config.secrets());
    }

    public ClusterMachine machine(String namespace, String id) {
        String action = "get machine " + id;
        return store.read(action, tx -> toWire(tx, List.of(live(tx, namespace, id, action)))).getFirst();
    }

    /** {@code rows} as the API shows them, each with its node's name as read in {@code tx}. */
    private static List<ClusterMachine> toWire(Tx tx, List<MachineRow> rows) throws SQLException {
        var nodeIds = rows.stream().map(MachineRow::nodeId).filter(Objects::nonNull).collect(Collectors.toSet());
        Map<String, String> names = nodeIds.isEmpty() ? Map.of() : tx.nodes().get(nodeIds).get().stream()
                .collect(Collectors.toMap(NodeRow::id, NodeRow::name));
        return rows.stream().map(m -> m.toWire(m.nodeId() == null ? null : names.get(m.nodeId()))).toList();
    }

    /**
     * One page, by id, of the namespace's machines that are of {@code fleet} (any when empty), in one of
     * {@code states} (any when empty) and have every entry of {@code metadata}. The page is short only when no
     * machine after it matches: rows that do not match are skipped, reading on until the page is full.
     */
    public List<ClusterMachine> machines(String namespace, Optional<String> fleet, Set<MachineState> states,
                                         Map<String, String> metadata, Page page) {
        String action = "list machines of " + namespace;
        var found = new ArrayList<MachineRow>();
        for (Page read = page; ; ) {
            Page batch = read;
            List<MachineRow> rows = store.read(action, tx -> tx.machines().list(namespace, fleet, batch));
            rows.stream().filter(m -> states.isEmpty() || states.contains(m.observedState()))
                    .filter(m -> m.spec().metadata().entrySet().containsAll(metadata.entrySet()))
                    .limit(page.limit() - found.size()).forEach(found::add);
            if (found.size() == page.limit() || rows.size() < batch.limit()) {
                return store.read(action, tx -> toWire(tx, found));
            }
            read = batch.after(rows.getLast().id());
        }
    }

    /**
     * Asks the machine's node to start it, or to resume it when it is suspended there; a machine without a node is
     * placed first when one can take it (a suspended machine that lost its node boots cold on the new one).
     */
    public ClusterMachine start(String namespace, String id) {
        String action = "start machine " + id;
        MachineRow machine = change(namespace, id, action, MachineState.RUNNING, null);
        if (machine.nodeId() == null) placeWaiting(machine);
        return machine(namespace, id);
    }

    /**
     * Asks the machine's node to suspend it: to save its memory and device state on the node and end its VMM. It keeps
     * its node and its share of it; {@link #start} resumes it there. Suspending a suspended machine changes nothing
     * on its node.
     *
     * @throws ApiException {@code failed_precondition} when it has secrets (its memory, which holds them, would be
     *     written to its node's disk in clear); {@code conflict} when it is not meant to run, has no node, or its node
     *     reports it stopping, stopped or failed
     */
    public ClusterMachine suspend(String namespace, String id) {
        String action = "suspend machine " + id;
        change(namespace, id, action, MachineState.SUSPENDED, null, machine -> requireSuspendable(action, machine));
        return machine(namespace, id);
    }

    private static void requireSuspendable(String action, MachineRow machine) {
        if (!machine.spec().secrets().isEmpty()) {
            throw ApiException.failedPrecondition(action + ": it has secrets, and its memory (which holds them) would "
                    + "be written to its node's disk in clear");
        }
        if (machine.desiredState() != MachineState.RUNNING && machine.desiredState() != MachineState.SUSPENDED) {
            throw ApiException.conflict(action + ": it is not meant to run (desired "
                    + machine.desiredState().wireName() + ")");
        }
        if (machine.nodeId() == null) throw ApiException.conflict(action + ": it has no node");
        switch (machine.observedState()) {
            case STOPPING, STOPPED, FAILED, DESTROYED -> throw ApiException.conflict(action + ": it is "
                    + machine.observedState().wireName());
            case CREATED, STARTING, RUNNING, SUSPENDED -> { } // its node suspends it once it runs
        }
    }

    /** Asks the machine's node to stop it with {@code stop}. */
    public ClusterMachine stop(String namespace, String id, MachineSpec.Stop stop) {
        change(namespace, id, "stop machine " + id, MachineState.STOPPED, stop);
        return machine(namespace, id);
    }

    /** Deletes the machine: it disappears from the API now and from its node at the node's next poll. */
    public void delete(String namespace, String id) {
        MachineRow machine = change(namespace, id, "delete machine " + id, MachineState.DESTROYED, null);
        if (machine.nodeId() == null) {
            store.update("delete machine " + id, tx -> {
                tx.machines().purge(id);
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
    private void placeWaiting(MachineRow machine) {
        var strategy = store.read("place machine " + machine.id(),
                tx -> tx.fleets().template(machine.namespace(), machine.fleet()))
                .map(t -> t.spec().strategy()).orElse(FleetStrategy.DEFAULT);
        placements.place(new Placements.Job.Place(machine, strategy));
    }

    private MachineRow change(String namespace, String id, String action, MachineState desired,
                              MachineSpec.Stop stop) {
        return change(namespace, id, action, desired, stop, machine -> { });
    }

    /** Changes the machine's desired state once {@code allowed} accepted its current row (it throws otherwise). */
    private MachineRow change(String namespace, String id, String action, MachineState desired,
                              MachineSpec.Stop stop, java.util.function.Consumer<MachineRow> allowed) {
        MachineRow changed = store.write(action, tx -> {
            MachineRow machine = live(tx, namespace, id, action);
            allowed.accept(machine);
            tx.machines().setDesired(id, desired, stop, clock.instant());
            if (machine.nodeId() != null) tx.nodes().touchAssignments(machine.nodeId());
            return machine;
        });
        changes.signal(changed.nodeId() == null ? List.of() : List.of(changed.nodeId()));
        return changed;
    }

    private MachineRow live(String namespace, String id, String action) {
        return store.read(action, tx -> live(tx, namespace, id, action));
    }

    static MachineRow live(Tx tx, String namespace, String id, String action) throws SQLException {
        return tx.machines().get(id)
                .filter(m -> m.namespace().equals(namespace) && !m.deleted())
                .orElseThrow(() -> notFound(action, "machine", id));
    }

    private static ApiException notFound(String action, String kind, String name) {
        return ApiException.notFound(action + ": no " + kind + " " + name);
    }
}
