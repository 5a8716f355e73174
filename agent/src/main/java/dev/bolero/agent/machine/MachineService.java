package dev.bolero.agent.machine;

import dev.bolero.agent.logs.LogStore;
import dev.bolero.agent.store.MachineStore;
import dev.bolero.api.ApiException;
import dev.bolero.api.CreateMachineRequest;
import dev.bolero.api.Machine;
import dev.bolero.api.MachineState;
import dev.bolero.api.StopRequest;
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
import java.util.EnumSet;
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
    private static final Set<MachineState> ACTIVE =
            EnumSet.of(MachineState.STARTING, MachineState.RUNNING, MachineState.STOPPING);
    private static final Set<MachineState> STARTABLE =
            EnumSet.of(MachineState.CREATED, MachineState.STOPPED, MachineState.FAILED);

    private final MachineStore store;
    private final Runtime runtime;
    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Map<String, Supervisor> supervisors = new ConcurrentHashMap<>();
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

    public MachineService(MachineStore store, Runtime runtime, Clock clock) {
        this.store = store;
        this.runtime = runtime;
        this.clock = clock;
    }

    /**
     * Creates a machine, and starts it when the request says so.
     *
     * @throws ApiException {@code conflict} when the name or a published port is taken (see
     *     {@link MachineNetwork} for the network's errors)
     */
    public Machine create(CreateMachineRequest request) {
        String id = HexFormat.of().formatHex(randomBytes());
        String name = request.name() != null ? request.name() : id;
        MachineRecord record = MachineRecord.created(id, name, request.config(), clock.instant());
        Optional<String> ip;
        lock.lock();
        try {
            if (store.findByName(name).isPresent()) {
                throw ApiException.conflict("create machine: the name '" + name + "' is taken");
            }
            ip = runtime.network().attach(id, record.config());
            try {
                createDirectory(runtime.machinesDir().resolve(id));
                store.insert(record);
            } catch (RuntimeException e) {
                runtime.network().detach(id);
                throw e;
            }
        } finally {
            lock.unlock();
        }
        log.info("machine={} created image={}", id, request.image());
        return request.startNow() ? start(id) : record.toApi().withIp(ip.orElse(null));
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
            if (!STARTABLE.contains(m.state())) {
                throw ApiException.conflict("start machine " + id + ": it is " + m.state().wireName());
            }
            MachineRecord starting = update(id, r -> r.starting(clock.instant()));
            Supervisor s = new Supervisor(this, runtime, starting);
            supervisors.put(id, s);
            s.launch();
            return view(starting);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops a starting or running machine: sends the stop signal to the workload and powers the VM off when it has
     * not exited after the timeout. Returns at once with the machine in state {@code stopping}.
     *
     * @throws ApiException {@code not_found}, or {@code conflict} when the machine is not running
     */
    public Machine stop(String id, StopRequest request) {
        lock.lock();
        try {
            MachineRecord m = find(id);
            if (m.state() == MachineState.STOPPING) return view(m);
            Supervisor s = supervisors.get(id);
            if (!ACTIVE.contains(m.state()) || s == null) {
                throw ApiException.conflict("stop machine " + id + ": it is " + m.state().wireName());
            }
            MachineRecord stopping = update(id, r -> r.withState(MachineState.STOPPING, clock.instant()));
            s.requestStop(request.signalNumber(), Duration.ofSeconds(request.timeoutSeconds()));
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
            if (ACTIVE.contains(m.state()) && !force) {
                throw ApiException.conflict("delete machine " + id + ": it is " + m.state().wireName()
                        + " (stop it first, or delete with ?force=true)");
            }
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
                    Machine destroyed = new Machine(gone.id(), gone.name(), MachineState.DESTROYED, gone.config(),
                            gone.imageDigest(), gone.exitCode(), gone.error(), gone.createdAt(), clock.instant(), gone.ip());
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
        return store.find(id).map(m -> ACTIVE.contains(m.state())).orElse(false);
    }

    /**
     * Brings the store in line with reality after an agent start: a machine whose VMM still runs is re-adopted
     * (its VMM is not restarted); one whose VMM is gone is marked failed.
     */
    public void recover() {
        for (MachineRecord m : store.list()) {
            if (!ACTIVE.contains(m.state())) continue;
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
                Supervisor s = new Supervisor(this, runtime, m);
                supervisors.put(m.id(), s);
                s.adopt(vm.get());
            } else {
                log.warn("machine={} lost: {}", m.id(), why);
                update(m.id(), r -> r.failed(why, clock.instant()));
            }
        }
    }

    /** Detaches from the running machines without stopping them: their VMMs outlive the agent. */
    @Override
    public void close() {
        supervisors.values().forEach(Supervisor::detach);
    }

    // --- called by supervisors ---

    /** Applies {@code change} to the stored machine and wakes waiters; returns the new record. */
    MachineRecord update(String id, UnaryOperator<MachineRecord> change) {
        lock.lock();
        try {
            MachineRecord next = change.apply(find(id));
            store.update(next);
            changed.signalAll();
            return next;
        } finally {
            lock.unlock();
        }
    }

    /** The stored machine, if it still exists. */
    Optional<MachineRecord> current(String id) {
        return store.find(id);
    }

    /** A supervisor is done: its machine is no longer active. */
    void finished(String id, Supervisor s) {
        supervisors.remove(id, s);
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

    private static void createDirectory(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("create " + dir + ": " + e.getMessage(), e);
        }
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) return;
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("delete " + dir + ": " + e.getMessage(), e);
        }
    }
}
