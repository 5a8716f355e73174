package dev.bolero.agent.machine;

import dev.bolero.runtime.DriverCapabilities;
import dev.bolero.runtime.VmHandle;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.VmmDriver;
import dev.bolero.runtime.VmmException;
import dev.bolero.runtime.guest.FakeGuest;
import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A {@link VmmDriver} whose VMs are {@link FakeVm}s: each "boots" a {@link FakeGuest}, configured by the test before the
 * start. A start can be held at a gate (to send commands while it is under way).
 */
final class FakeDriver implements VmmDriver {
    private final AtomicLong pids = new AtomicLong(1000);
    private final List<FakeVm> vms = new CopyOnWriteArrayList<>();
    private volatile Consumer<FakeGuest> guestSetup = g -> { };
    private volatile CountDownLatch gate;

    /** How each new VM's guest behaves. */
    void guests(Consumer<FakeGuest> setup) {
        this.guestSetup = setup;
    }

    /** Holds every start until the returned latch is counted down. */
    CountDownLatch holdStarts() {
        gate = new CountDownLatch(1);
        return gate;
    }

    /** The VMs started so far, oldest first. */
    List<FakeVm> vms() {
        return List.copyOf(vms);
    }

    FakeVm lastVm() {
        return vms.getLast();
    }

    @Override
    public String name() {
        return "qemu";
    }

    @Override
    public DriverCapabilities capabilities() {
        return new DriverCapabilities("tcg", "fake", false, false, false);
    }

    @Override
    public Optional<String> unusableReason() {
        return Optional.empty();
    }

    @Override
    public VmProcess start(VmSpec spec) throws VmmException {
        CountDownLatch g = gate;
        if (g != null) {
            try {
                g.await();
            } catch (InterruptedException e) {
                throw new VmmException("start " + spec.machineId() + ": interrupted");
            }
        }
        FakeVm vm = new FakeVm(new VmHandle("qemu", 1, pids.incrementAndGet(), Instant.EPOCH, Map.of()));
        guestSetup.accept(vm.guest);
        vms.add(vm);
        return vm;
    }

    @Override
    public Optional<VmProcess> recover(VmHandle handle) {
        return vms.stream().filter(v -> v.handle().pid() == handle.pid() && v.isAlive()).map(v -> (VmProcess) v)
                .findFirst();
    }

    /** A VM that runs until its guest powers off or it is stopped or killed; records how it was ended. */
    static final class FakeVm implements VmProcess {
        final FakeGuest guest = new FakeGuest(this::powerOff);
        private final VmHandle handle;
        private final CompletableFuture<VmExit> exit = new CompletableFuture<>();
        private final List<String> ends = new CopyOnWriteArrayList<>();
        private volatile boolean alive = true;

        FakeVm(VmHandle handle) {
            this.handle = handle;
        }

        /** How the host ended it: {@code stop} (a power-off with a grace period) or {@code kill}, in order. */
        List<String> hostEnds() {
            return List.copyOf(ends);
        }

        @Override
        public VmHandle handle() {
            return handle;
        }

        @Override
        public ByteChannel openControl() throws IOException {
            if (!alive) throw new IOException("connect to the guest: the VMM is gone");
            return guest.connect();
        }

        @Override
        public CompletableFuture<VmExit> exit() {
            return exit;
        }

        @Override
        public void stop(Duration grace) {
            ends.add("stop");
            powerOff();
        }

        @Override
        public void kill() {
            ends.add("kill");
            powerOff();
        }

        @Override
        public boolean isAlive() {
            return alive;
        }

        @Override
        public String diagnostics(int maxBytes) {
            return "fake VMM";
        }

        /** The VM goes away: the channel ends, then the process's exit completes. */
        void powerOff() {
            alive = false;
            guest.disconnect();
            exit.complete(new VmExit(OptionalInt.of(0)));
        }
    }
}
