package dev.bolero.agent.machine;

import dev.bolero.agent.logs.LogStore;
import dev.bolero.agent.store.MachineStore;
import dev.bolero.api.Machine;
import dev.bolero.api.MachineEvent;
import dev.bolero.core.Digest;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.oci.ImageConfig;
import dev.bolero.oci.ImageReference;
import dev.bolero.oci.ImageStore;
import dev.bolero.oci.PreparedImage;
import dev.bolero.oci.RegistryConfig;
import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.KernelFlavour;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * A node's machine service over a fake clock, a {@link FakeDriver} and an image hook that "pulls" at once (or when a
 * test releases it): the runners' logic without QEMU, registries or sleeps. Real: the SQLite store, logs and files.
 */
final class RunnerFixture implements AutoCloseable {
    static final Duration BOOT_DEADLINE = Duration.ofSeconds(30);

    final Path dir;
    final FakeClock clock = new FakeClock();
    final FakeDriver driver = new FakeDriver();
    final MachineStore store;
    final MachineService service;
    private volatile CountDownLatch pullGate;

    RunnerFixture(Path dir) {
        this.dir = dir;
        this.store = MachineStore.open(dir.resolve("bolero.db"));
        try { // what a snapshot's manifest records of the boot assets and the image's drive
            for (String file : List.of("vmlinuz", "initrd", "rootfs.ext4")) Files.writeString(dir.resolve(file), file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        this.service = newService();
    }

    /** Another service over the same store and driver: an agent restarted after a {@code kill -9}. */
    MachineService newService() {
        Path machines = dir.resolve("machines");
        NodeRuntime runtime = new NodeRuntime(new ImageStore(dir, new RegistryConfig(Set.of(), Map.of())), driver,
                () -> new BootAssets(dir.resolve("vmlinuz"), dir.resolve("initrd"), List.of(), KernelFlavour.values()[0]),
                new LogStore(machines, java.time.Clock.systemUTC()), machines, BOOT_DEADLINE, MachineNetwork.disabled(),
                new NodeVolumes(dir.resolve("volumes")),
                TemplateStore.open(dir.resolve("templates"), TemplateLimits.DEFAULT));
        return new MachineService(store, runtime, clock, new NodeCapacity(4, 4096, 1.0, 1.0),
                List.of(new InstantImage(), new BootWatchdog(BOOT_DEADLINE),
                        new HealthChecks(new dev.bolero.agent.checks.NetworkProbe(), clock)));
    }

    /** Holds image pulls until the returned latch is counted down. */
    CountDownLatch holdPulls() {
        pullGate = new CountDownLatch(1);
        return pullGate;
    }

    static MachineSpec.Builder spec() {
        return MachineSpec.builder("fake.test/app:1").guest(1, 256);
    }

    /** Creates and starts a machine. */
    String run(MachineSpec spec) {
        Machine m = service.create(new dev.bolero.api.CreateMachineRequest(null, "default", true, spec));
        return m.id();
    }

    /** Waits (in real time, for the runner's threads) until the machine is in {@code state}. */
    Machine await(String id, MachineState state) throws InterruptedException {
        return service.await(id, EnumSet.of(state), Duration.ofSeconds(20));
    }

    List<String> eventTypes(String id) {
        return service.events(id).stream().map(MachineEvent::type).toList();
    }

    @Override
    public void close() {
        service.close();
        store.close();
    }

    /** "Pulls" at once (or when released) an image that runs {@code app}. */
    private final class InstantImage implements MachineHook {
        @Override
        public void prepare(Launch launch) {
            CountDownLatch gate = pullGate;
            if (gate != null) {
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
            ImageConfig config = new ImageConfig(List.of(), List.of("app"), List.of(), "", "");
            PreparedImage image = new PreparedImage(ImageReference.parse("fake.test/app:1"),
                    Digest.of("sha256", "a".repeat(64)), config, dir.resolve("rootfs.ext4"), 1);
            launch.image(image);
        }
    }
}
