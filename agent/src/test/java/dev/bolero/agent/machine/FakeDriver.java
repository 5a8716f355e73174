package dev.bolero.agent.machine;

import dev.bolero.runtime.DriverCapabilities;
import dev.bolero.runtime.Snapshot;
import dev.bolero.runtime.VmHandle;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.VmmDriver;
import dev.bolero.runtime.VmmException;
import dev.bolero.runtime.guest.FakeGuest;
import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
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
    /** The guests of suspended VMs, by work directory. */
    private final Map<Path, FakeGuest> suspended = new java.util.concurrent.ConcurrentHashMap<>();

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
        return new DriverCapabilities("tcg", "fake", true, false, false);
    }

    /** The real {@link Snapshot} checks, over a launch of the fake VMM (a fake version, the spec's real files). */
    @Override
    public Optional<String> snapshotUnusable(VmSpec spec, Map<String, String> dependencies) {
        if (!Snapshot.exists(spec.workDir())) return Optional.of("no snapshot");
        try {
            return Snapshot.unusableReason(spec.workDir(), launch(spec), dependencies);
        } catch (VmmException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** A new VM around the guest the snapshot kept: it goes on where it was. */
    @Override
    public VmProcess resume(VmSpec spec) throws VmmException {
        FakeGuest guest = suspended.remove(spec.workDir());
        if (guest == null) throw new VmmException("resume machine " + spec.machineId() + ": no fake guest kept");
        FakeVm vm = new FakeVm(new VmHandle("qemu", 1, pids.incrementAndGet(), Instant.EPOCH, Map.of()),
                spec.workDir(), guest);
        vms.add(vm);
        Snapshot.discard(spec.workDir());
        return vm;
    }

    private static Map<String, String> launch(VmSpec spec) throws VmmException {
        return Snapshot.launch(spec, Path.of("/bin/true"), "fake 1", spec.workDir().resolve("root.img"));
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
        try {
            Files.createDirectories(spec.workDir());
            Files.writeString(spec.workDir().resolve("root.img"), "fresh");
        } catch (IOException e) {
            throw new VmmException("start " + spec.machineId() + ": " + e.getMessage(), e);
        }
        FakeVm vm = new FakeVm(new VmHandle("qemu", 1, pids.incrementAndGet(), Instant.EPOCH, Map.of()),
                spec.workDir(), null);
        guestSetup.accept(vm.guest);
        Snapshot.recordLaunch(spec.workDir(), launch(spec));
        vms.add(vm);
        return vm;
    }

    @Override
    public Optional<VmProcess> recover(VmHandle handle) {
        return vms.stream().filter(v -> v.handle().pid() == handle.pid() && v.isAlive()).map(v -> (VmProcess) v)
                .findFirst();
    }

    /**
     * A VM that runs until its guest powers off or it is stopped, killed or suspended; records how it was ended. A
     * suspend keeps its guest for a resume.
     */
    final class FakeVm implements VmProcess {
        final FakeGuest guest;
        private final VmHandle handle;
        private final Path workDir;
        private final CompletableFuture<VmExit> exit = new CompletableFuture<>();
        private final List<String> ends = new CopyOnWriteArrayList<>();
        private volatile boolean alive = true;
        /** While set, its control channel cannot be opened (a guest not listening yet). */
        volatile boolean refusingControl;

        /** @param resumed the guest a snapshot kept; null for a new one */
        FakeVm(VmHandle handle, Path workDir, FakeGuest resumed) {
            this.handle = handle;
            this.workDir = workDir;
            this.guest = resumed != null ? resumed : new FakeGuest(this::powerOff);
            guest.poweringOff(this::powerOff);
        }

        /** Whether this VM continues a suspended one's guest. */
        boolean resumed() {
            return vms.stream().anyMatch(v -> v != this && v.guest == guest);
        }

        @Override
        public void suspend(Map<String, String> dependencies) throws VmmException {
            Path dir = Snapshot.begin(workDir);
            Snapshot.stateFile(dir, "fake-state");
            suspended.put(workDir, guest);
            ends.add("suspend");
            powerOff();
            Snapshot.seal(workDir, dependencies);
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
            if (refusingControl) throw new IOException("connect to the guest: it is not listening yet");
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
