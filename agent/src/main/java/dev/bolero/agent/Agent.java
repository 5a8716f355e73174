package dev.bolero.agent;

import dev.bolero.agent.http.NodeApi;
import dev.bolero.agent.logs.LogStore;
import dev.bolero.agent.machine.MachineNetwork;
import dev.bolero.agent.machine.MachineRecord;
import dev.bolero.agent.machine.MachineService;
import dev.bolero.agent.store.MachineStore;
import dev.bolero.agent.store.NetworkAllocationStore;
import dev.bolero.network.NetworkConfig;
import dev.bolero.network.NetworkException;
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
import java.util.Set;
import java.util.stream.Collectors;
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
    private final MachineNetwork network;

    private Agent(MachineStore store, MachineService machines, NodeApi api, MachineNetwork network) {
        this.store = store;
        this.machines = machines;
        this.api = api;
        this.network = network;
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
        MachineNetwork network = startNetwork(config, store);
        MachineService machines = new MachineService(store,
                new MachineService.Runtime(images, driver, boot, logs, machinesDir, config.bootDeadline(), network),
                clock);
        machines.recover();
        NodeApi api = new NodeApi(machines, logs).start(config.host(), config.port());
        return new Agent(store, machines, api, network);
    }

    /**
     * The node network, reconciled with the host; disabled when the config has none.
     *
     * @throws IllegalStateException saying why the host's network could not be set up and how to run without it
     */
    private static MachineNetwork startNetwork(AgentConfig config, MachineStore store) {
        if (config.network().isEmpty()) {
            log.info("network=off: machines get no network");
            return MachineNetwork.disabled();
        }
        NetworkConfig n = config.network().get();
        try {
            Set<String> ids = store.list().stream().map(MachineRecord::id).collect(Collectors.toSet());
            MachineNetwork network = MachineNetwork.start(n,
                    NetworkAllocationStore.open(config.dataDir().resolve("bolero.db")), ids);
            log.info("network=on pool={} publish_address={} table={} device_prefix={}", n.pool(), n.publishAddress(),
                    n.table(), n.devicePrefix());
            return network;
        } catch (NetworkException | RuntimeException e) {
            store.close();
            throw new IllegalStateException("start agent: set up the node network: " + e.getMessage()
                    + " (the agent needs root, iproute2 and nftables with libnftables1 for machine networking;"
                    + " run it with --no-network to start machines without a network)", e);
        }
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
        network.close();
        store.close();
    }

    private boolean closed;
}
