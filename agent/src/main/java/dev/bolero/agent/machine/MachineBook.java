package dev.bolero.agent.machine;

import dev.bolero.agent.store.MachineStore;
import dev.bolero.api.ApiException;
import dev.bolero.api.MachineEvent;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The node's machines as stored: every change is checked against {@link Lifecycle}, written to the store (with its
 * event) before it is visible, and wakes those {@linkplain #await waiting} on a machine. Starts claim capacity under
 * one node-wide lock, so two runners cannot both take the last free memory. Thread-safe.
 */
final class MachineBook {
    private final MachineStore store;
    private final Clock clock;
    private final NodeCapacity capacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private volatile Runnable stateChanged = () -> { };

    MachineBook(MachineStore store, Clock clock, NodeCapacity capacity) {
        this.store = store;
        this.clock = clock;
        this.capacity = capacity;
    }

    Clock clock() {
        return clock;
    }

    NodeCapacity capacity() {
        return capacity;
    }

    /**
     * Has {@code listener} run after every change of a machine's state (and a deletion), in place of the one before.
     * It runs under the book's lock: it must return at once, and not call the book.
     */
    void onStateChange(Runnable listener) {
        stateChanged = listener;
    }

    /** @throws ApiException {@code not_found} */
    MachineRecord find(String id) {
        return store.find(id).orElseThrow(() -> ApiException.notFound("machine " + id + " not found"));
    }

    Optional<MachineRecord> current(String id) {
        return store.find(id);
    }

    Optional<MachineRecord> findByName(String name) {
        return store.findByName(name);
    }

    /** All machines, oldest first. */
    List<MachineRecord> list() {
        return store.list();
    }

    /** @throws ApiException {@code not_found} */
    List<MachineEvent> events(String id) {
        find(id);
        return store.events(id);
    }

    /** Runs {@code action} under the node-wide lock (a create's checks and insert). */
    <T> T locked(Supplier<T> action) {
        lock.lock();
        try {
            return action.get();
        } finally {
            lock.unlock();
        }
    }

    /** Stores a new machine with its {@code created} event. */
    void insert(MachineRecord m) {
        locked(() -> {
            store.insert(m);
            event(m.id(), "created", MachineState.CREATED, "image " + m.config().image());
            return m;
        });
    }

    /**
     * Applies {@code change}, which must be a legal transition; a change of state is recorded as an event of the new
     * state's name with {@code detail}. Returns the new record.
     */
    MachineRecord update(String id, UnaryOperator<MachineRecord> change, String detail) {
        return locked(() -> {
            MachineRecord before = find(id);
            MachineRecord next = change.apply(before);
            Lifecycle.checkTransition(id, before.state(), next.state());
            store.update(next);
            if (next.state() != before.state()) {
                event(id, next.state().wireName(), next.state(), detail);
                stateChanged.run();
            }
            changed.signalAll();
            return next;
        });
    }

    /**
     * Moves a startable machine to {@code starting} as restart number {@code restartCount} (0: a start by request).
     *
     * @throws ApiException {@code failed_precondition} when the node cannot fit it
     */
    MachineRecord claimStart(String id, int restartCount, String why) {
        return locked(() -> {
            checkFits("start machine " + id, Optional.of(id), find(id).config().guest());
            return update(id, r -> r.starting(clock.instant()).withRestartCount(restartCount, clock.instant()), why);
        });
    }

    /**
     * Records the end of a run: the machine is {@code stopped} or {@code failed}, with an {@code ended} event. Empty
     * when the machine is gone.
     */
    Optional<MachineRecord> recordEnd(String id, RunEnd end) {
        return locked(() -> {
            Optional<MachineRecord> found = store.find(id);
            if (found.isEmpty()) return Optional.<MachineRecord>empty();
            MachineRecord before = found.get();
            MachineRecord next = end.state() == MachineState.STOPPED
                    ? before.stopped(end.exitCode(), clock.instant())
                    : before.failed(end.detail(), clock.instant());
            Lifecycle.checkTransition(id, before.state(), next.state());
            store.update(next);
            store.addEvent(id, "ended", next.state(), Optional.of(end.reason().wire), end.exitCode(), end.detail(),
                    clock.instant());
            stateChanged.run();
            changed.signalAll();
            return Optional.of(next);
        });
    }

    /** Records an event that does not change the machine's state. */
    void event(String id, String type, MachineState state, String detail) {
        store.addEvent(id, type, state, Optional.empty(), OptionalInt.empty(), detail, clock.instant());
    }

    /** Deletes the machine's row and events, and wakes its waiters. */
    void delete(String id) {
        locked(() -> {
            store.delete(id);
            stateChanged.run();
            changed.signalAll();
            return id;
        });
    }

    /**
     * Waits until the machine is in one of {@code states}; a machine deleted meanwhile is its last record in state
     * {@code destroyed}.
     *
     * @throws ApiException {@code not_found} (also when it is deleted and {@code destroyed} is not awaited), or
     *     {@code timeout} naming the state it is in
     */
    MachineRecord await(String id, Set<MachineState> states, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            MachineRecord current = find(id);
            while (!states.contains(current.state())) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw ApiException.timeout("wait for machine " + id + " to be " + wireNames(states)
                            + ": still " + current.state().wireName() + " after " + timeout.toSeconds() + " s");
                }
                changed.awaitNanos(left);
                Optional<MachineRecord> now = store.find(id);
                if (now.isEmpty()) {
                    if (states.contains(MachineState.DESTROYED)) {
                        return current.withState(MachineState.DESTROYED, clock.instant());
                    }
                    throw ApiException.notFound("wait for machine " + id + ": it was deleted");
                }
                current = now.get();
            }
            return current;
        } finally {
            lock.unlock();
        }
    }

    /**
     * @param self the machine being started, whose own reservation (it is suspended) does not count against it
     * @throws ApiException {@code failed_precondition} when {@code guest} does not fit beside the machines that hold
     *     capacity (active or suspended)
     */
    void checkFits(String action, Optional<String> self, MachineSpec.Guest guest) {
        long usedCpus = 0;
        long usedMemory = 0;
        for (MachineRecord other : store.list()) {
            if (!Lifecycle.reservesCapacity(other.state()) || self.filter(other.id()::equals).isPresent()) continue;
            usedCpus += other.config().guest().cpus();
            usedMemory += other.config().guest().memoryMb();
        }
        capacity.checkFits(action, usedCpus, usedMemory, guest.cpus(), guest.memoryMb());
    }

    private static String wireNames(Set<MachineState> states) {
        return String.join("|", states.stream().map(MachineState::wireName).sorted().toList());
    }
}
