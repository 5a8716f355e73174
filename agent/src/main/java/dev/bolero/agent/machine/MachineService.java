package dev.bolero.agent.machine;

import dev.bolero.agent.logs.LogStore;
import dev.bolero.agent.store.MachineStore;
import dev.bolero.api.ApiException;
import dev.bolero.api.PrivateFiles;
import dev.bolero.api.CreateMachineRequest;
import dev.bolero.api.ExecRequest;
import dev.bolero.api.ExecResult;
import dev.bolero.api.ExecStream;
import dev.bolero.api.Machine;
import dev.bolero.api.MachineEvent;
import dev.bolero.core.Driver;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.oci.ImageStore;
import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmmDriver;
import dev.bolero.runtime.VmmException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The machines of one node: creates, starts, stops, deletes and waits on them, and re-adopts running VMMs when the
 * agent restarts. Every state change is written to the store before it is visible. Thread-safe; blocking calls
 * ({@link #await}) are meant for virtual threads.
 */
public final class MachineService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MachineService.class);
    private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    private final MachineStore store;
    private final Runtime runtime;
    private final Clock clock;
    private final NodeCapacity capacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Map<String, Supervisor> supervisors = new ConcurrentHashMap<>();
    /** Restarts waiting out their backoff, by machine id; guarded by {@link #lock}. */
    private final Map<String, Thread> pendingRestarts = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    /**
     * What a supervisor needs to run machines.
     *
     * @param machinesDir the parent of every machine's own directory
     * @param bootDeadline how long a guest may take from VMM spawn to a started workload
     * @param network attaches machines to the node's network
     */
    public record Runtime(
            ImageStore images,
            VmmDriver driver,
            BootSource boot,
            LogStore logs,
            Path machinesDir,
            Duration bootDeadline,
            MachineNetwork network) {}

    /** The kernel and initramfs guests boot; built on first use. */
    @FunctionalInterface
    public interface BootSource {
        /** @throws IOException naming what could not be prepared */
        BootAssets get() throws IOException;
    }

    /** A service that gives its machines this host's memory and {@value NodeCapacity#DEFAULT_CPU_OVERCOMMIT} vCPUs per CPU. */
    public MachineService(MachineStore store, Runtime runtime, Clock clock) {
        this(store, runtime, clock, NodeCapacity.ofHost(NodeCapacity.DEFAULT_CPU_OVERCOMMIT, 1.0));
    }

    /** A service that refuses to start a machine that does not fit in {@code capacity}. */
    public MachineService(MachineStore store, Runtime runtime, Clock clock, NodeCapacity capacity) {
        this.store = store;
        this.runtime = runtime;
        this.clock = clock;
        this.capacity = capacity;
    }

    /** The VMM this node runs its machines with: the one driver a machine's {@code config.driver} may name here. */
    public Driver driver() {
        return Driver.parse(runtime.driver().name());
    }

    /** What this node can give its machines. */
    public NodeCapacity capacity() {
        return capacity;
    }

    /**
     * Creates a machine, and starts it when the request says so.
     *
     * @throws ApiException {@code conflict} when the name or a published port is taken (see
     *     {@link MachineNetwork} for the network's errors)
     */
    public Machine create(CreateMachineRequest request) {
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
        MachineRecord record = MachineRecord.created(id, name, namespace, config, clock.instant());
        Optional<String> ip;
        lock.lock();
        try {
            if (store.find(id).isPresent()) throw ApiException.conflict("create machine: the id " + id + " is taken");
            if (store.findByName(name).isPresent()) {
                throw ApiException.conflict("create machine: the name '" + name + "' is taken");
            }
            if (config.driver() != null && config.driver() != driver()) {
                throw ApiException.failedPrecondition("create machine " + name + ": it asks for driver "
                        + config.driver().wireName() + ", and this node runs " + driver().wireName());
            }
            if (startNow) checkFits("create machine " + name, config.guest());
            ip = runtime.network().attach(id, namespace, config);
            try {
                createDirectory(runtime.machinesDir().resolve(id));
                store.insert(record);
            } catch (RuntimeException e) {
                runtime.network().detach(id);
                throw e;
            }
            event(id, "created", MachineState.CREATED, "image " + config.image());
        } finally {
            lock.unlock();
        }
        log.info("machine={} created image={}", id, config.image());
        return record.toApi().withIp(ip.orElse(null));
    }

    /** @throws ApiException {@code not_found} */
    public Machine get(String id) {
        return view(find(id));
    }

    /** All machines of the node, oldest first. */
    public List<Machine> list() {
        return store.list().stream().map(this::view).toList();
    }

    /**
     * Starts a created, stopped or failed machine: pulls its image, boots its VM and runs its workload, in the
     * background. Returns the machine in state {@code starting}.
     *
     * @throws ApiException {@code not_found}, or {@code conflict} naming the state when it cannot start
     */
    public Machine start(String id) {
        lock.lock();
        try {
            MachineRecord m = find(id);
            Lifecycle.require(id, m.state(), Lifecycle.Request.START);
            cancelRestart(id);
            return launch(id, 0, "started by request");
        } finally {
            lock.unlock();
        }
    }

    /**
     * Moves a startable machine to {@code starting} and hands it to a new supervisor. Holds {@link #lock}.
     *
     * @throws ApiException {@code failed_precondition} when the node cannot fit it
     */
    private Machine launch(String id, int restartCount, String why) {
        checkFits("start machine " + id, find(id).config().guest());
        MachineRecord starting = update(id, r -> r.starting(clock.instant()).withRestartCount(restartCount,
                clock.instant()), why);
        Supervisor s = new Supervisor(this, runtime, starting);
        supervisors.put(id, s);
        s.launch();
        return view(starting);
    }

    /**
     * Stops a starting or running machine: sends the stop signal to the workload and powers the VM off when it has
     * not exited after the timeout. Returns at once with the machine in state {@code stopping}.
     *
     * @throws ApiException {@code not_found}, or {@code conflict} when the machine is not running
     */
    public Machine stop(String id, MachineSpec.Stop request) {
        lock.lock();
        try {
            MachineRecord m = find(id);
            if (cancelRestart(id)) {
                event(id, "restart_cancelled", m.state(), "stopped by request during the restart backoff");
                return view(m);
            }
            Lifecycle.require(id, m.state(), Lifecycle.Request.STOP);
            if (m.state() == MachineState.STOPPING) return view(m);
            Supervisor s = supervisors.get(id);
            if (s == null) throw new IllegalStateException("machine " + id + " is " + m.state() + " without a supervisor");
            MachineSpec.Stop effective = request.orElse(m.config().stop());
            MachineRecord stopping = update(id, r -> r.withState(MachineState.STOPPING, clock.instant()),
                    "signal " + effective.signalNumber() + ", power off after " + effective.timeoutSeconds() + " s");
            s.requestStop(effective.signalNumber(), Duration.ofSeconds(effective.timeoutSeconds()));
            return view(stopping);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Deletes a machine with its files and VMM.
     *
     * @throws ApiException {@code not_found}, or {@code conflict} when it runs and {@code force} is false
     */
    public void delete(String id, boolean force) throws InterruptedException {
        Supervisor s;
        lock.lock();
        try {
            MachineRecord m = find(id);
            if (!force) Lifecycle.require(id, m.state(), Lifecycle.Request.DELETE);
            cancelRestart(id);
            s = supervisors.get(id);
        } finally {
            lock.unlock();
        }
        if (s != null) s.killAndJoin();
        lock.lock();
        try {
            store.delete(id);
            runtime.network().detach(id);
            deleteRecursively(runtime.machinesDir().resolve(id));
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        log.info("machine={} destroyed", id);
    }

    /**
     * Waits until the machine is in one of {@code states}. A machine deleted while waited on is {@code destroyed}.
     *
     * @throws ApiException {@code not_found}, or {@code timeout} naming the state it is in
     */
    public Machine await(String id, Set<MachineState> states, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            Machine current = get(id);
            while (!states.contains(current.state())) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw ApiException.timeout("wait for machine " + id + " to be " + wireNames(states)
                            + ": still " + current.state().wireName() + " after " + timeout.toSeconds() + " s");
                }
                changed.awaitNanos(left);
                Optional<MachineRecord> now = store.find(id);
                if (now.isEmpty()) {
                    Machine gone = current;
                    Machine destroyed = new Machine(gone.id(), gone.name(), gone.namespace(), MachineState.DESTROYED,
                            gone.config(), gone.imageDigest(), gone.exitCode(), gone.error(), gone.createdAt(),
                            clock.instant(), gone.restartCount(), gone.ip());
                    if (states.contains(MachineState.DESTROYED)) return destroyed;
                    throw ApiException.notFound("wait for machine " + id + ": it was deleted");
                }
                current = view(now.get());
            }
            return current;
        } finally {
            lock.unlock();
        }
    }

    /** Whether a machine's workload may still produce output (a log follower keeps following while it does). */
    public boolean isActive(String id) {
        return store.find(id).map(m -> Lifecycle.active(m.state())).orElse(false);
    }

    /**
     * Brings the store in line with reality after an agent start: a machine whose VMM still runs is re-adopted
     * (its VMM is not restarted); one whose VMM is gone is marked failed.
     */
    public void recover() {
        Set<String> adopted = new java.util.HashSet<>();
        for (MachineRecord m : store.list()) {
            if (!Lifecycle.active(m.state())) {
                List<MachineEvent> history = store.events(m.id());
                if (!history.isEmpty() && history.getLast().type().equals("restarting")) {
                    lock.lock();
                    try {
                        scheduleRestart(m);
                    } finally {
                        lock.unlock();
                    }
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
            String why = lost;
            if (vm.isPresent()) {
                log.info("machine={} re-adopted pid={}", m.id(), vm.get().handle().pid());
                event(m.id(), "re_adopted", m.state(), "VMM pid " + vm.get().handle().pid());
                adopted.add(m.id());
                Supervisor s = new Supervisor(this, runtime, m);
                supervisors.put(m.id(), s);
                s.adopt(vm.get());
                if (m.state() == MachineState.STOPPING) { // the stop's power-off timer died with the agent
                    MachineSpec.Stop stop = m.config().stop();
                    s.requestStop(stop.signalNumber(), Duration.ofSeconds(stop.timeoutSeconds()));
                }
            } else {
                log.warn("machine={} lost: {}", m.id(), why);
                ended(m.id(), null, m.state() == MachineState.STOPPING ? RunEnd.stoppedByRequest()
                        : RunEnd.failed(RunEnd.Reason.LOST, why));
            }
        }
        Reconciler reconciler = new Reconciler(runtime.machinesDir());
        for (Reconciler.OwnedProcess p : reconciler.killOrphans(adopted)) { // a re-adopted VMM may be a jailer's child
            store.find(p.machineId()).ifPresent(m ->
                    event(m.id(), "orphan_killed", m.state(), "VMM pid " + p.pid() + " was not adopted"));
        }
        runtime.driver().releaseLeftovers(); // uid claims and cgroups of VMMs gone unseen, or just killed
        Set<String> known = new java.util.HashSet<>();
        store.list().forEach(m -> known.add(m.id()));
        reconciler.removeStrayDirectories(known);
    }

    /** Detaches from the running machines without stopping them: their VMMs outlive the agent. */
    @Override
    public void close() {
        lock.lock();
        try {
            pendingRestarts.values().forEach(Thread::interrupt);
            pendingRestarts.clear();
        } finally {
            lock.unlock();
        }
        supervisors.values().forEach(Supervisor::detach);
    }

    /**
     * A machine's events, oldest first.
     *
     * @throws ApiException {@code not_found}
     */
    public List<MachineEvent> events(String id) {
        find(id);
        return store.events(id);
    }

    /**
     * Runs a command in a running machine's workload root and returns its outcome; blocks up to the request's
     * timeout (meant for a virtual thread).
     *
     * @throws ApiException {@code not_found}; {@code conflict} naming the state when it is not running;
     *     {@code failed_precondition} when the guest cannot run the command (no such program, no such user)
     */
    public ExecResult exec(String id, ExecRequest request) throws InterruptedException {
        return execSupervisor(id).exec(request);
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
        return execSupervisor(id).openExec(start, listener);
    }

    private Supervisor execSupervisor(String id) {
        Supervisor s;
        lock.lock();
        try {
            MachineRecord m = find(id);
            Lifecycle.require(id, m.state(), Lifecycle.Request.EXEC);
            s = supervisors.get(id);
        } finally {
            lock.unlock();
        }
        if (s == null) throw ApiException.conflict("exec in machine " + id + ": it is not supervised");
        return s;
    }

    // --- called by supervisors ---

    /** Applies {@code change} to the stored machine and wakes waiters; returns the new record. */
    MachineRecord update(String id, UnaryOperator<MachineRecord> change) {
        return update(id, change, "");
    }

    /**
     * Applies {@code change}, which must be a legal transition; a change of state is recorded as an event of the
     * new state's name with {@code detail}.
     */
    MachineRecord update(String id, UnaryOperator<MachineRecord> change, String detail) {
        lock.lock();
        try {
            MachineRecord before = find(id);
            MachineRecord next = change.apply(before);
            Lifecycle.checkTransition(id, before.state(), next.state());
            store.update(next);
            if (next.state() != before.state()) event(id, next.state().wireName(), next.state(), detail);
            changed.signalAll();
            return next;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A run ended (a supervisor's, or one found gone at recovery with {@code s} null): records it, then restarts
     * the machine under its policy, or deletes it when it is {@code auto_destroy}. A null {@code end}: the machine
     * is being deleted, nothing is recorded.
     */
    void ended(String id, Supervisor s, RunEnd end) {
        if (s != null) supervisors.remove(id, s);
        if (end == null) return; // deleted: the delete records the end
        MachineRecord after;
        lock.lock();
        try {
            if (store.find(id).isEmpty()) return;
            after = find(id);
            MachineRecord next = end.state() == MachineState.STOPPED
                    ? after.stopped(end.exitCode(), clock.instant())
                    : after.failed(end.detail(), clock.instant());
            Lifecycle.checkTransition(id, after.state(), next.state());
            store.update(next);
            store.addEvent(id, "ended", next.state(), Optional.of(end.reason().wire), end.exitCode(), end.detail(),
                    clock.instant());
            changed.signalAll();
            after = next;
            boolean byRequest = end.reason() == RunEnd.Reason.STOPPED_BY_REQUEST;
            if (!byRequest && after.config().restart().restarts(end.failure(), after.restartCount())) {
                scheduleRestart(after);
                return;
            }
        } finally {
            lock.unlock();
        }
        if (after.config().autoDestroy()) {
            Thread.ofVirtual().name("auto-destroy-" + id).start(() -> {
                try {
                    delete(id, true);
                } catch (InterruptedException | RuntimeException e) {
                    log.warn("machine={} auto_destroy failed: {}", id, e.toString());
                }
            });
        }
    }

    /** Starts the machine again after the backoff of its next restart. Holds {@link #lock}. */
    private void scheduleRestart(MachineRecord m) {
        int attempt = m.restartCount() + 1;
        Duration delay = backoff(m.restartCount());
        event(m.id(), "restarting", m.state(), "restart " + attempt + " in " + delay.toMillis() + " ms (policy "
                + m.config().restart().policy() + ")");
        Thread t = Thread.ofVirtual().name("restart-" + m.id()).unstarted(() -> {
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                return;
            }
            lock.lock();
            try {
                if (pendingRestarts.remove(m.id(), Thread.currentThread())) {
                    launch(m.id(), attempt, "restart " + attempt + " under policy " + m.config().restart().policy());
                }
            } catch (RuntimeException e) {
                log.warn("machine={} restart failed: {}", m.id(), e.toString());
                store.find(m.id()).ifPresent(r -> event(m.id(), "restart_failed", r.state(), e.getMessage()));
            } finally {
                lock.unlock();
            }
        });
        pendingRestarts.put(m.id(), t);
        t.start();
    }

    /** The delay before restart {@code restartsSoFar + 1}: 1 s doubling, at most 30 s. */
    static Duration backoff(int restartsSoFar) {
        long ms = FIRST_BACKOFF.toMillis() << Math.min(restartsSoFar, 16);
        return Duration.ofMillis(Math.min(ms, MAX_BACKOFF.toMillis()));
    }

    /** @throws ApiException {@code failed_precondition} when {@code guest} does not fit beside the active machines */
    private void checkFits(String action, MachineSpec.Guest guest) {
        long usedCpus = 0;
        long usedMemory = 0;
        for (MachineRecord other : store.list()) {
            if (!Lifecycle.active(other.state())) continue;
            usedCpus += other.config().guest().cpus();
            usedMemory += other.config().guest().memoryMb();
        }
        capacity.checkFits(action, usedCpus, usedMemory, guest.cpus(), guest.memoryMb());
    }

    /** Cancels a restart waiting out its backoff; whether there was one. Holds {@link #lock}. */
    private boolean cancelRestart(String id) {
        Thread t = pendingRestarts.remove(id);
        if (t == null) return false;
        t.interrupt();
        return true;
    }

    private void event(String id, String type, MachineState state, String detail) {
        store.addEvent(id, type, state, Optional.empty(), java.util.OptionalInt.empty(), detail, clock.instant());
    }

    /** The stored machine, if it still exists. */
    Optional<MachineRecord> current(String id) {
        return store.find(id);
    }

    Clock clock() {
        return clock;
    }

    /** The API view of a machine, with its address. */
    private Machine view(MachineRecord m) {
        return m.toApi().withIp(runtime.network().ip(m.id()).orElse(null));
    }

    private MachineRecord find(String id) {
        return store.find(id).orElseThrow(() -> ApiException.notFound("machine " + id + " not found"));
    }

    private byte[] randomBytes() {
        byte[] b = new byte[8];
        random.nextBytes(b);
        return b;
    }

    private static String wireNames(Set<MachineState> states) {
        return String.join("|", states.stream().map(MachineState::wireName).sorted().toList());
    }

    /** A machine's directory, {@code 0700}: its logs are the tenant's. */
    private static void createDirectory(Path dir) {
        try {
            PrivateFiles.directory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("create " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Deletes {@code dir} and everything below it; entries that vanish meanwhile (a VMM's jail being released) are fine. */
    static void deleteRecursively(Path dir) {
        try {
            Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
                @Override
                public java.nio.file.FileVisitResult visitFile(Path file,
                        java.nio.file.attribute.BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                @Override
                public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof java.nio.file.NoSuchFileException) return java.nio.file.FileVisitResult.CONTINUE;
                    throw e;
                }

                @Override
                public java.nio.file.FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    if (e != null && !(e instanceof java.nio.file.NoSuchFileException)) throw e;
                    Files.deleteIfExists(d);
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
            });
        } catch (java.nio.file.NoSuchFileException e) {
            // already gone
        } catch (IOException e) {
            throw new UncheckedIOException("delete " + dir + ": " + e.getMessage(), e);
        }
    }
}
