package dev.bolero.agent.machine;

import dev.bolero.agent.checks.NetworkProbe;
import dev.bolero.agent.stats.UsageReader;
import dev.bolero.api.wire.MachineStats;
import dev.bolero.network.Attachment;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.io.IOException;
import java.nio.file.Path;
import dev.bolero.agent.store.MachineStore;
import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import dev.bolero.api.CreateMachineRequest;
import dev.bolero.api.ExecRequest;
import dev.bolero.api.ExecResult;
import dev.bolero.api.ExecStream;
import dev.bolero.api.ForkMachineRequest;
import dev.bolero.api.Machine;
import dev.bolero.api.MachineEvent;
import dev.bolero.api.wire.SecretValue;
import dev.bolero.core.Driver;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmmException;
import dev.bolero.runtime.guest.GuestEvent;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The machines of one node, in front of their {@link MachineRunner}s: validates requests, stores new machines, hands
 * every other request to the machine's runner and answers with the stored state; re-adopts running VMMs when the agent
 * restarts. Thread-safe; blocking calls ({@link #await}, {@link #delete}, {@link #exec}) are meant for virtual
 * threads.
 */
public final class MachineService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MachineService.class);

    private final MachineBook book;
    private final NodeRuntime runtime;
    private final List<MachineHook> hooks;
    private final Runners runners;
    /** The health-check hook, when the runners have one: the machines' check results come from it. */
    private final Optional<HealthChecks> health;
    /** The usage hook, when the runners have one: the machines' stats come from it. */
    private final Optional<UsageSampler> usage;
    /** The secrets hook, when the runners have one: it keeps the values the control plane sends. */
    private final Optional<SecretsHook> secrets;
    /** The metrics hook, when the runners have one: it also counts exec sessions. */
    private final Optional<MachineMetrics> metrics;
    /** Each machine's fleet, as the control plane last said (in memory: every assignments answer says it again). */
    private final Map<String, String> fleets = new java.util.concurrent.ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    /** A service that gives its machines this host's memory and {@value NodeCapacity#DEFAULT_CPU_OVERCOMMIT} vCPUs per CPU. */
    public MachineService(MachineStore store, NodeRuntime runtime, Clock clock) {
        this(store, runtime, clock, NodeCapacity.ofHost(NodeCapacity.DEFAULT_CPU_OVERCOMMIT, 1.0));
    }

    /** A service that refuses to start a machine that does not fit in {@code capacity}. */
    public MachineService(MachineStore store, NodeRuntime runtime, Clock clock, NodeCapacity capacity) {
        this(store, runtime, clock, capacity, hooks(runtime, clock));
    }

    /** The hooks of a node's machines, in the order the runners call them. */
    private static List<MachineHook> hooks(NodeRuntime runtime, Clock clock) {
        var usage = new UsageSampler(new UsageReader(Path.of("/")), clock,
                id -> runtime.network().attachment(id).map(Attachment::tapName));
        var metrics = new MachineMetrics(usage, clock);
        var health = new HealthChecks(new NetworkProbe(), clock);
        return List.of(new ImageHook(runtime.images(), metrics), new NetworkHook(runtime.network()),
                new VolumeHook(runtime.volumes(), runtime.driver()), new BootWatchdog(runtime.bootDeadline()), health,
                new SecretsHook(), usage, metrics,
                new Templates(runtime.templates(), runtime.driver(), clock, health::statuses));
    }

    /** A service whose runners call {@code hooks}, in order. */
    MachineService(MachineStore store, NodeRuntime runtime, Clock clock, NodeCapacity capacity,
            List<MachineHook> hooks) {
        this.book = new MachineBook(store, clock, capacity);
        this.runtime = runtime;
        this.hooks = List.copyOf(hooks);
        this.runners = new Runners(new MachineRunner.Context(book, runtime, hooks));
        this.health = hooks.stream().filter(HealthChecks.class::isInstance).map(HealthChecks.class::cast).findFirst();
        this.usage = hooks.stream().filter(UsageSampler.class::isInstance).map(UsageSampler.class::cast).findFirst();
        this.secrets = hooks.stream().filter(SecretsHook.class::isInstance).map(SecretsHook.class::cast).findFirst();
        this.metrics = hooks.stream().filter(MachineMetrics.class::isInstance).map(MachineMetrics.class::cast)
                .findFirst();
        runtime.volumes().freezeWith(this::freeze);
    }

    /**
     * Freezes volume {@code v}'s file system in the running machine of this node that mounts it (through its guest),
     * for a consistent copy; what thaws it. Nothing is frozen when no machine mounting it runs.
     *
     * @throws IOException naming the machine when its VM runs but its guest could not freeze
     */
    private NodeVolumes.Frozen freeze(dev.bolero.api.wire.NodeVolume v) throws IOException {
        for (MachineRecord m : book.list()) {
            if (!m.namespace().equals(v.namespace())
                    || m.config().mounts().stream().noneMatch(mount -> mount.volume().equals(v.name()))) continue;
            MachineRunner runner = runners.get(m.id());
            boolean frozen;
            try {
                frozen = runner.ask(new RunnerCommand.FreezeVolume(v.name(), v.id(), true, new CompletableFuture<>()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("freeze volume " + v.name() + " in machine " + m.id() + ": interrupted", e);
            } catch (RuntimeException e) {
                throw new IOException(e.getMessage(), e);
            }
            if (!frozen) continue;
            log.info("machine={} volume={} frozen for a snapshot", m.id(), v.id());
            return () -> {
                try {
                    runner.ask(new RunnerCommand.FreezeVolume(v.name(), v.id(), false, new CompletableFuture<>()));
                    log.info("machine={} volume={} thawed", m.id(), v.id());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    log.warn("machine={} volume={}: thaw interrupted (its guest thaws it within 60 s)", m.id(), v.id());
                } catch (RuntimeException e) {
                    log.warn("machine={} volume={}: {} (its guest thaws it within 60 s)", m.id(), v.id(),
                            e.getMessage());
                }
            };
        }
        return () -> {};
    }

    /**
     * Publishes the machines' metrics on {@code registry}: machines by state ({@code bolero_machines}), and what
     * {@link MachineMetrics} measures.
     */
    public void bindMetrics(MeterRegistry registry) {
        for (MachineState state : MachineState.values()) {
            Gauge.builder("bolero.machines", book, b -> b.list().stream().filter(m -> m.state() == state).count())
                    .description("The node's machines by state").tag("state", state.wireName()).register(registry);
        }
        metrics.ifPresent(m -> m.bind(registry, id -> Tags.of("namespace",
                book.current(id).map(MachineRecord::namespace).orElse(""), "fleet", fleets.getOrDefault(id, ""))));
    }

    /**
     * Records the fleet of each machine, {@code byMachine} being all the node's machines that have one (the control
     * plane's word; the others forget theirs): the {@code fleet} label of its metrics, labelled again when it changed.
     */
    public void fleets(Map<String, String> byMachine) {
        fleets.keySet().retainAll(byMachine.keySet());
        byMachine.forEach((id, fleet) -> {
            if (!fleet.equals(fleets.put(id, fleet))) metrics.ifPresent(m -> m.relabel(id));
        });
    }

    /**
     * Has {@code listener} run after every change of a machine's state here, and every deletion (one listener: it
     * replaces the one before). It must return at once and not call this service: it runs under the machines' lock.
     */
    public void onStateChange(Runnable listener) {
        book.onStateChange(listener);
    }

    /** The VMM this node runs its machines with: the one driver a machine's {@code config.driver} may name here. */
    public Driver driver() {
        return Driver.parse(runtime.driver().name());
    }

    /** The volumes living on this node. */
    public NodeVolumes volumes() {
        return runtime.volumes();
    }

    /**
     * Grows the volumes of {@code grown} (their files just grew) in the running machines that mount them, without a
     * restart: each machine's drive is resized and its guest grows the file system. Returns at once; a failure is
     * recorded as the machine's event.
     */
    public void volumesGrown(List<dev.bolero.api.wire.NodeVolume> grown) {
        for (var v : grown) {
            for (MachineRecord m : book.list()) {
                if (!m.namespace().equals(v.namespace()) || m.state() != MachineState.RUNNING
                        || m.config().mounts().stream().noneMatch(mount -> mount.volume().equals(v.name()))) continue;
                runners.get(m.id()).post(new RunnerCommand.VolumeGrown(v.name(), v.id(), v.sizeGb() * (1L << 30),
                        new CompletableFuture<>()));
            }
        }
    }

    /** The node's templates (see {@link Templates}), most recently used first. */
    public List<dev.bolero.api.Template> templates() {
        return runtime.templates().list().stream().map(t -> new dev.bolero.api.Template(t.key().value(),
                t.namespace(), t.imageDigest(), t.source(), t.takenAt(), t.lastUsed(), t.bytes())).toList();
    }

    /** Removes the templates of the image {@code digest}, which was deleted from the node; returns how many. */
    public int removeTemplatesOf(String digest) {
        int removed = runtime.templates().removeImage(digest);
        if (removed > 0) log.info("image={} deleted: its templates={} removed", digest, removed);
        return removed;
    }

    /** What this node can give its machines. */
    public NodeCapacity capacity() {
        return book.capacity();
    }

    /**
     * Creates a machine, and starts it when the request says so. This is the node API's create: the node has no
     * secrets of its own, so a config with {@code secrets} is refused (they come only with machines the control plane
     * assigns, {@link #create(String, String, String, MachineSpec)}).
     *
     * @throws ApiException {@code conflict} when the name or a published port is taken (see
     *     {@link MachineNetwork} for the network's errors); {@code invalid_argument} for a config with secrets
     */
    public Machine create(CreateMachineRequest request) {
        if (!request.config().secrets().isEmpty()) {
            throw ApiException.invalid("create machine: config.secrets needs a control plane: a node's own API takes no"
                    + " secrets (create the machine through the server, which keeps them)");
        }
        String id = HexFormat.of().formatHex(randomBytes());
        Machine created = create(id, request.name() != null ? request.name() : id, request.namespace(),
                request.config(), request.startNow());
        return request.startNow() ? start(id) : created;
    }

    /**
     * Creates a machine under a given id without starting it: the control plane's machines keep their cluster id on
     * the node.
     *
     * @param name the node-local name
     * @throws ApiException {@code conflict} when the id or the name is taken
     */
    public Machine create(String id, String name, String namespace, MachineSpec config) {
        return create(id, name, namespace, config, false);
    }

    /** Creates a machine; one about to be started must fit the node's free capacity. */
    private Machine create(String id, String name, String namespace, MachineSpec config, boolean startNow) {
        MachineRecord record = MachineRecord.created(id, name, namespace, config, book.clock().instant());
        book.locked(() -> {
            if (book.current(id).isPresent()) throw ApiException.conflict("create machine: the id " + id + " is taken");
            if (book.findByName(name).isPresent()) {
                throw ApiException.conflict("create machine: the name '" + name + "' is taken");
            }
            if (config.driver() != null && config.driver() != driver()) {
                throw ApiException.failedPrecondition("create machine " + name + ": it asks for driver "
                        + config.driver().wireName() + ", and this node runs " + driver().wireName());
            }
            if (startNow) book.checkFits("create machine " + name, Optional.empty(), config.guest());
            List<MachineHook> claimed = new ArrayList<>();
            try {
                for (MachineHook h : hooks) {
                    h.created(record);
                    claimed.add(h);
                }
                MachineFiles.createDirectory(runtime.machineDir(id));
                book.insert(record);
            } catch (RuntimeException e) {
                claimed.reversed().forEach(h -> h.deleted(id));
                throw e;
            }
            runners.add(id);
            return record;
        });
        log.info("machine={} created image={}", id, config.image());
        return view(record);
    }

    /**
     * What machine {@code id} used over the last {@code window} (at most an hour of samples, every 10 s) and now;
     * no samples when its VMM does not run.
     *
     * @throws ApiException {@code not_found}
     */
    public MachineStats stats(String id, Duration window) {
        book.find(id);
        return usage.map(u -> u.stats(id, window)).orElse(new MachineStats(id, List.of()));
    }

    /**
     * Keeps {@code values} (replacing those kept before) as the secrets of machine {@code id}, in memory, for its next
     * runs: the control plane sends them with every assignments answer. Dropped when the machine is deleted.
     */
    public void secrets(String id, List<SecretValue> values) {
        secrets.ifPresent(h -> h.put(id, values));
    }

    /** @throws ApiException {@code not_found} */
    public Machine get(String id) {
        return view(book.find(id));
    }

    /** All machines of the node, oldest first. */
    public List<Machine> list() {
        return book.list().stream().map(this::view).toList();
    }

    /**
     * Starts a created, stopped or failed machine: pulls its image, boots its VM and runs its workload, in the
     * background. Returns the machine in state {@code starting}.
     *
     * @throws ApiException {@code not_found}, {@code conflict} naming the state when it cannot start, or
     *     {@code failed_precondition} when the node cannot fit it
     */
    public Machine start(String id) {
        return view(runners.get(id).askNow(new RunnerCommand.Start(new CompletableFuture<>())));
    }

    /**
     * Stops a starting or running machine: sends the stop signal to the workload and powers the VM off when it has
     * not exited after the timeout. Returns at once with the machine in state {@code stopping}. A machine waiting out
     * a restart backoff stays stopped or failed: the restart is cancelled.
     *
     * @throws ApiException {@code not_found}, or {@code conflict} when the machine is not running
     */
    public Machine stop(String id, MachineSpec.Stop request) {
        return view(runners.get(id).askNow(new RunnerCommand.Stop(request, new CompletableFuture<>())));
    }

    /**
     * Suspends a running machine: exec calls in flight fail, its memory and device state are saved in its directory
     * and its VMM ends; it keeps its share of the node. Returns once it is {@code suspended}; {@link #start} resumes
     * it (or boots it, with a {@code snapshot_discarded} event naming why, when what the snapshot depends on changed).
     *
     * @throws ApiException {@code not_found}; {@code conflict} when it is not running; {@code failed_precondition}
     *     when the node's driver cannot save a VM's state or the machine has secrets (its memory, which holds them,
     *     would be written to the node's disk in clear); {@code internal} when the save failed (the machine runs on)
     */
    public Machine suspend(String id) {
        if (!book.find(id).config().secrets().isEmpty()) {
            throw ApiException.failedPrecondition("suspend machine " + id + ": it has secrets, and its memory (which "
                    + "holds them) would be written to the node's disk in clear");
        }
        return view(runners.get(id).askNow(new RunnerCommand.Suspend(new CompletableFuture<>())));
    }

    /** A clone {@link #fork} makes: its id and node-local name. */
    public record Clone(String id, String name) {
        public Clone {
            java.util.Objects.requireNonNull(id, "id");
            java.util.Objects.requireNonNull(name, "name");
        }
    }

    /**
     * {@link #fork(String, List)} with {@code count} clones under new ids, named by them.
     *
     * @throws ApiException as the other fork
     */
    public List<Machine> fork(String sourceId, int count) throws InterruptedException {
        new ForkMachineRequest(count); // checks it
        List<Clone> clones = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String id = HexFormat.of().formatHex(randomBytes());
            clones.add(new Clone(id, id));
        }
        return fork(sourceId, clones);
    }

    /**
     * Makes {@code clones} of a running machine from one live snapshot of it, and starts them: each resumes the
     * source's memory and device state with a copy-on-write view of its root drive as it was, then takes its own
     * identity (hostname, MAC, address, machine-id, a reseeded RNG). The source is paused while its state is saved and
     * runs on. The clones have the source's namespace and config without its published ports
     * ({@link MachineSpec#withoutServices}). Returns the clones, {@code starting}.
     *
     * @throws ApiException {@code not_found}; {@code conflict} when the source is not running or a clone's id or name
     *     is taken; {@code failed_precondition} when it has secrets or volumes (a clone
     *     would copy the one and share the other), or the node cannot fit the clones; {@code internal} when the state
     *     cannot be saved or planted. No clone is left then.
     */
    public List<Machine> fork(String sourceId, List<Clone> clones) throws InterruptedException {
        MachineRecord source = book.find(sourceId);
        String what = "fork machine " + sourceId;
        if (!source.config().secrets().isEmpty()) {
            throw ApiException.failedPrecondition(what + ": it has secrets, and its memory (which holds them) would "
                    + "be written to the node's disk in clear");
        }
        if (!source.config().mounts().isEmpty()) {
            throw ApiException.failedPrecondition(what + ": it has volumes, which its clones cannot share");
        }
        Path seed = runtime.machineDir(sourceId).resolve("fork-" + HexFormat.of().formatHex(randomBytes()));
        List<String> made = new ArrayList<>();
        try {
            for (Clone c : clones) {
                create(c.id(), c.name(), source.namespace(), source.config().withoutServices(), true);
                made.add(c.id());
                source.imageDigest().ifPresent(d ->
                        book.update(c.id(), r -> r.withImageDigest(d, book.clock().instant()), ""));
            }
            try {
                runners.get(sourceId).ask(new RunnerCommand.Seed(seed, what, new CompletableFuture<>()));
            } catch (ApiException e) {
                if (e.code() == ErrorCode.INTERNAL) {
                    book.current(sourceId).ifPresent(r -> book.event(sourceId, "fork_failed", r.state(),
                            e.getMessage()));
                }
                throw e;
            }
            book.event(sourceId, "forked", MachineState.RUNNING, "its state was saved for clones; it ran on");
            for (String id : made) {
                runtime.driver().plant(seed, runtime.machineDir(id), MachineRunner.snapshotDependencies(book.find(id)));
                book.event(id, "cloned", MachineState.CREATED, "from a live snapshot of machine " + sourceId);
            }
            List<Machine> started = new ArrayList<>();
            for (String id : made) started.add(start(id));
            log.info("machine={} forked clones={}", sourceId, made);
            return started;
        } catch (VmmException e) {
            deleteAll(made);
            throw new ApiException(ErrorCode.INTERNAL, what + ": " + e.getMessage());
        } catch (RuntimeException | InterruptedException e) {
            deleteAll(made);
            throw e;
        } finally {
            MachineFiles.deleteRecursively(seed);
        }
    }

    private void deleteAll(List<String> ids) throws InterruptedException {
        for (String id : ids) {
            try {
                delete(id, true);
            } catch (ApiException e) {
                log.warn("machine={} delete of a failed fork's clone failed: {}", id, e.getMessage());
            }
        }
    }

    /**
     * Deletes a machine with its files and VMM; returns once they are gone.
     *
     * @throws ApiException {@code not_found}, or {@code conflict} when it runs and {@code force} is false
     */
    public void delete(String id, boolean force) throws InterruptedException {
        runners.get(id).ask(new RunnerCommand.Delete(force, new CompletableFuture<>()));
    }

    /**
     * Waits until the machine is in one of {@code states}. A machine deleted while waited on is {@code destroyed}.
     *
     * @throws ApiException {@code not_found}, or {@code timeout} naming the state it is in
     */
    public Machine await(String id, Set<MachineState> states, Duration timeout) throws InterruptedException {
        String ip = get(id).ip();
        MachineRecord m = book.await(id, states, timeout);
        return m.state() == MachineState.DESTROYED ? m.toApi().with(ip, runtime.network().isPrivate(), List.of())
                : view(m);
    }

    /** Whether a machine's workload may still produce output (a log follower keeps following while it does). */
    public boolean isActive(String id) {
        return book.current(id).map(m -> Lifecycle.active(m.state())).orElse(false);
    }

    /**
     * A machine's events, oldest first.
     *
     * @throws ApiException {@code not_found}
     */
    public List<MachineEvent> events(String id) {
        return book.events(id);
    }

    /**
     * Runs a command in a running machine's workload root and returns its outcome; blocks up to the request's
     * timeout (meant for a virtual thread).
     *
     * @throws ApiException {@code not_found}; {@code conflict} naming the state when it is not running;
     *     {@code failed_precondition} when the guest cannot run the command (no such program, no such user)
     */
    public ExecResult exec(String id, ExecRequest request) throws InterruptedException {
        Conversation conversation = conversation(id);
        Runnable ended = execOpened(MachineMetrics.ExecKind.CALL);
        try {
            return conversation.exec(request);
        } finally {
            ended.run();
        }
    }

    /**
     * Starts a command in a running machine's workload root with its input open, on a pseudo-terminal when
     * {@code start.tty()}, and returns at once; its output and end go to {@code listener}. Close the session to kill
     * the command when its caller goes away.
     *
     * @throws ApiException {@code not_found}; {@code conflict} naming the state when it is not running;
     *     {@code internal} when the guest's control channel fails
     */
    public ExecSession openExec(String id, ExecStream.Start start, ExecSession.Listener listener) {
        Conversation conversation = conversation(id);
        Runnable ended = execOpened(MachineMetrics.ExecKind.STREAM);
        try {
            return conversation.openExec(start, new ExecSession.Listener() {
                @Override
                public void output(GuestEvent.Stream stream, byte[] data, Runnable sent) {
                    listener.output(stream, data, sent);
                }

                @Override
                public void exited(int exitCode) {
                    ended.run();
                    listener.exited(exitCode);
                }

                @Override
                public void failed(ApiException error) {
                    ended.run();
                    listener.failed(error);
                }
            });
        } catch (RuntimeException e) {
            ended.run();
            throw e;
        }
    }

    /**
     * Attaches {@code listener} to a running machine's workload: its output as it comes (after what a workload with
     * its stdin open wrote before, up to 64 KiB) and its exit. The session writes to the workload's stdin and resizes
     * its terminal when its init opened them ({@code init.stdin}, {@code init.tty}); closing it detaches.
     *
     * @throws ApiException {@code not_found}; {@code conflict} naming the state when it is not running
     */
    public ExecSession attach(String id, ExecSession.Listener listener) {
        return conversation(id).attach(listener);
    }

    /** Counts an exec session opening (when the metrics hook is there); run what it returns at its end. */
    private Runnable execOpened(MachineMetrics.ExecKind kind) {
        return metrics.map(m -> m.execOpened(kind)).orElse(() -> { });
    }

    private Conversation conversation(String id) {
        return runners.get(id).askNow(new RunnerCommand.Exec(new CompletableFuture<>()));
    }

    /**
     * Brings the store in line with reality after an agent start: a machine whose VMM still runs is re-adopted
     * (its VMM is not restarted); one whose VMM is gone has its run ended (failed, or stopped when it was being
     * stopped) under its restart policy; a restart backoff the previous agent was waiting out starts again.
     */
    public void recover() {
        Set<String> adopted = new HashSet<>();
        for (MachineRecord m : book.list()) {
            MachineRunner runner = runners.add(m.id());
            if (!Lifecycle.active(m.state())) {
                List<MachineEvent> history = book.events(m.id());
                if (!history.isEmpty() && history.getLast().type().equals("restarting")) {
                    runner.askNow(new RunnerCommand.ResumeRestart(new CompletableFuture<>()));
                }
                continue;
            }
            Optional<VmProcess> vm = Optional.empty();
            String lost = "the agent restarted before its VMM was started";
            if (m.vmHandle().isPresent()) {
                try {
                    vm = runtime.driver().recover(m.vmHandle().get());
                    lost = "its VMM exited while the agent was down";
                } catch (VmmException e) {
                    lost = "re-adopt its VMM: " + e.getMessage();
                }
            }
            if (vm.isPresent()) {
                log.info("machine={} re-adopted pid={}", m.id(), vm.get().handle().pid());
                book.event(m.id(), "re_adopted", m.state(), "VMM pid " + vm.get().handle().pid());
                adopted.add(m.id());
                runner.askNow(new RunnerCommand.Adopt(vm.get(), new CompletableFuture<>()));
            } else {
                log.warn("machine={} lost: {}", m.id(), lost);
                RunEnd end = m.state() == MachineState.STOPPING ? RunEnd.stoppedByRequest()
                        : RunEnd.failed(RunEnd.Reason.LOST, lost);
                runner.askNow(new RunnerCommand.Lost(end, new CompletableFuture<>()));
            }
        }
        Reconciler reconciler = new Reconciler(runtime.machinesDir());
        for (Reconciler.OwnedProcess p : reconciler.killOrphans(adopted)) { // a re-adopted VMM may be a jailer's child
            book.current(p.machineId()).ifPresent(m ->
                    book.event(m.id(), "orphan_killed", m.state(), "VMM pid " + p.pid() + " was not adopted"));
        }
        runtime.driver().releaseLeftovers(); // uid claims and cgroups of VMMs gone unseen, or just killed
        Set<String> known = new HashSet<>();
        book.list().forEach(m -> known.add(m.id()));
        reconciler.removeStrayDirectories(known);
    }

    /** Detaches from the running machines without stopping them: their VMMs outlive the agent. */
    @Override
    public void close() {
        runners.detachAll();
    }

    /** The API view of a machine, with its address and its checks' results. */
    private Machine view(MachineRecord m) {
        return m.toApi().with(runtime.network().ip(m.id()).orElse(null), runtime.network().isPrivate(),
                health.map(h -> h.statuses(m.id())).orElse(List.of()));
    }

    private byte[] randomBytes() {
        byte[] b = new byte[8];
        random.nextBytes(b);
        return b;
    }
}
