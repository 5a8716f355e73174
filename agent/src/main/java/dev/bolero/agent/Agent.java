package dev.bolero.agent;

import dev.bolero.agent.http.NodeApi;
import dev.bolero.agent.logs.LogStore;
import dev.bolero.agent.machine.MachineService;
import dev.bolero.agent.machine.NodeCapacity;
import dev.bolero.agent.store.MachineStore;
import dev.bolero.oci.ImageStore;
import dev.bolero.oci.RegistryConfig;
import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.VmmDriver;
import dev.bolero.runtime.boot.BootAssetsBuilder;
import dev.bolero.runtime.qemu.QemuDriver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running node agent. {@link #start} opens the store, re-adopts the machines a previous agent left running and
 * serves the node API; {@link #close} stops serving and detaches from the machines, which keep running.
 */
public final class Agent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    private final MachineStore store;
    private final MachineService machines;
    private final NodeApi api;

    private Agent(MachineStore store, MachineService machines, NodeApi api) {
        this.store = store;
        this.machines = machines;
        this.api = api;
    }

    /**
     * Starts an agent.
     *
     * @throws UncheckedIOException when the data directory cannot be prepared
     */
    public static Agent start(AgentConfig config) {
        Path dataDir = config.dataDir();
        Path machinesDir = dataDir.resolve("machines");
        try {
            Files.createDirectories(machinesDir);
        } catch (IOException e) {
            throw new UncheckedIOException("create data dir " + dataDir + ": " + e.getMessage(), e);
        }
        Clock clock = Clock.systemUTC();
        MachineStore store = MachineStore.open(dataDir.resolve("bolero.db"));
        ImageStore images = new ImageStore(dataDir, new RegistryConfig(config.insecureRegistries(), Map.of()));
        VmmDriver driver = new QemuDriver(config.accelerator());
        log.info("driver={} accelerator={} ({})", driver.name(), driver.capabilities().accelerator(),
                driver.capabilities().acceleratorReason());
        BootAssetsBuilder bootBuilder = new BootAssetsBuilder(dataDir);
        config.kernel().ifPresent(bootBuilder::kernel);
        MachineService.BootSource boot = once(bootBuilder);
        LogStore logs = new LogStore(machinesDir, clock);
        MachineService machines = new MachineService(store,
                new MachineService.Runtime(images, driver, boot, logs, machinesDir, config.bootDeadline()), clock,
                NodeCapacity.ofHost(config.cpuOvercommit(), config.memoryOvercommit()));
        machines.recover();
        NodeApi api = new NodeApi(machines, logs).start(config.host(), config.port());
        return new Agent(store, machines, api);
    }

    /** The boot assets, built on the first machine start and then reused. */
    private static MachineService.BootSource once(BootAssetsBuilder builder) {
        AtomicReference<BootAssets> built = new AtomicReference<>();
        return () -> {
            synchronized (built) {
                if (built.get() == null) built.set(builder.build());
                return built.get();
            }
        };
    }

    /** The port the node API listens on. */
    public int port() {
        return api.port();
    }

    /** Stops serving and detaches from the machines without stopping them. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        api.close();
        machines.close();
        store.close();
    }

    private boolean closed;
}
