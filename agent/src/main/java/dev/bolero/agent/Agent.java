package dev.bolero.agent;

import dev.bolero.agent.cluster.ClusterConfig;
import dev.bolero.agent.cluster.ClusterMember;
import dev.bolero.agent.cluster.PrivateNode;
import dev.bolero.agent.http.ImageRoutes;
import dev.bolero.agent.http.NodeApi;
import dev.bolero.api.http.Telemetry;
import dev.bolero.agent.http.NodeInfo;
import dev.bolero.agent.logs.LogStore;
import dev.bolero.agent.machine.MachineNetwork;
import dev.bolero.agent.machine.MachineRecord;
import dev.bolero.agent.machine.MachineService;
import dev.bolero.agent.machine.NodeRuntime;
import dev.bolero.agent.machine.TemplateStore;
import dev.bolero.agent.machine.NodeVolumes;
import dev.bolero.agent.machine.NodeCapacity;
import dev.bolero.agent.store.MachineStore;
import dev.bolero.agent.store.NetworkAllocationStore;
import dev.bolero.network.NetworkConfig;
import dev.bolero.network.NetworkException;
import dev.bolero.oci.ImageStore;
import dev.bolero.oci.RegistryConfig;
import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.VmmDriver;
import dev.bolero.runtime.boot.BootAssetsBuilder;
import dev.bolero.runtime.boot.GuestKernel;
import dev.bolero.runtime.VmmException;
import dev.bolero.runtime.drivers.Drivers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
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
    private final Path dataDir;
    private final MachineNetwork network;
    private final Telemetry telemetry;
    private final NodeInfo nodeInfo;
    private ClusterMember member;

    private Agent(MachineStore store, MachineService machines, NodeApi api, Telemetry telemetry, Path dataDir,
                  MachineNetwork network, NodeInfo nodeInfo) {
        this.nodeInfo = nodeInfo;
        this.store = store;
        this.machines = machines;
        this.api = api;
        this.telemetry = telemetry;
        this.dataDir = dataDir;
        this.network = network;
    }

    /**
     * Starts an agent.
     *
     * @throws UncheckedIOException when the data directory cannot be prepared
     * @throws IllegalStateException when the configured driver cannot run here
     */
    public static Agent start(AgentConfig config) {
        Path dataDir = config.dataDir();
        Path machinesDir = dataDir.resolve("machines");
        try {
            Files.createDirectories(machinesDir);
        } catch (IOException e) {
            throw new UncheckedIOException("create data dir " + dataDir + ": " + e.getMessage(), e);
        }
        java.time.Clock clock = java.time.Clock.systemUTC();
        MachineStore store = MachineStore.open(dataDir.resolve("bolero.db"));
        ImageStore images = new ImageStore(dataDir, new RegistryConfig(config.insecureRegistries(), config.registryCredentials(),
                config.registryReadTimeout()), ImageStore.DEFAULT_FREE_BYTES, config.imageLimits());
        log.info("image limits max_image_bytes={} max_image_entries={} store_budget_bytes={} registry_read_timeout_s={}",
                config.imageLimits().maxImageBytes(), config.imageLimits().maxImageEntries(), config.imageLimits().storeBudgetBytes(),
                config.registryReadTimeout().toSeconds());
        collectImageGarbage(images);
        Drivers.Selection drivers;
        try {
            drivers = Drivers.select(config.driver(), config.accelerator(), config.jail());
        } catch (VmmException e) {
            store.close();
            throw new IllegalStateException(e.getMessage(), e);
        }
        VmmDriver driver = drivers.driver();
        log.info("driver={} accelerator={} ({}) jailed={}", driver.name(), driver.capabilities().accelerator(),
                driver.capabilities().acceleratorReason(), config.jail().isPresent());
        BootAssetsBuilder bootBuilder = new BootAssetsBuilder(dataDir);
        config.kernel().ifPresent(bootBuilder::kernel);
        Optional<GuestKernel> kernel = chooseKernel(bootBuilder);
        NodeRuntime.BootSource boot = once(bootBuilder);
        LogStore logs = new LogStore(machinesDir, clock);
        MachineNetwork network = startNetwork(config, store);
        MachineService machines = new MachineService(store,
                new NodeRuntime(images, driver, boot, logs, machinesDir, config.bootDeadline(), network,
                        new NodeVolumes(dataDir.resolve("volumes")),
                        TemplateStore.open(dataDir.resolve("templates"), config.templateLimits())),
                dev.bolero.agent.machine.Clock.system(clock),
                NodeCapacity.ofHost(config.cpuOvercommit(), config.memoryOvercommit()));
        var telemetry = new Telemetry("agent", () -> kernel.isEmpty()
                ? Optional.of("no guest kernel to boot machines with (GET /api/v1/node says why)") : Optional.empty());
        machines.bindMetrics(telemetry.registry());
        machines.recover();
        var nodeInfo = new NodeInfo(drivers, config.jail().isPresent(), kernel);
        NodeApi api = new NodeApi(machines, logs, nodeInfo,
                new ImageRoutes(images, machines, dataDir.resolve("uploads")), telemetry, config.clientLimits())
                .start(config.host(), config.port());
        return new Agent(store, machines, api, telemetry, dataDir, network, nodeInfo);
    }

    /** Sweeps what an interrupted pull left behind and blobs no image refers to; a failure is logged, not fatal. */
    private static void collectImageGarbage(ImageStore images) {
        try {
            images.collectGarbage();
        } catch (dev.bolero.oci.OciException e) {
            log.warn("image garbage collection at start failed: {}", e.getMessage());
        }
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
            // A node of the private network starts with the layout it had, so the link's traffic keeps its rules.
            n = PrivateNode.storedLayout(config.dataDir()).map(n::withPrivateNetwork).orElse(n);
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

    /**
     * The guest kernel, fixed for the agent's life (a lean kernel built meanwhile is used after a restart). Empty when
     * there is none: the first machine start then fails saying why.
     */
    private static Optional<GuestKernel> chooseKernel(BootAssetsBuilder builder) {
        try {
            GuestKernel kernel = builder.choose();
            builder.kernel(kernel.image());
            log.info("guest kernel={} flavour={}", kernel.image(), kernel.flavour());
            return Optional.of(kernel);
        } catch (IOException e) {
            log.warn("no guest kernel: {}", e.getMessage());
            return Optional.empty();
        }
    }

    /** The boot assets, built on the first machine start and then reused. */
    private static NodeRuntime.BootSource once(BootAssetsBuilder builder) {
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

    /**
     * Makes this agent a node of a cluster: from now on its machines are the control plane's assignments.
     *
     * @throws IllegalStateException when the join fails or the agent already joined
     */
    public synchronized ClusterMember joinCluster(ClusterConfig cluster) {
        if (member != null) throw new IllegalStateException("agent already joined node " + member.nodeId());
        member = ClusterMember.start(cluster, dataDir, machines, api.localUrl(), network);
        member.wireGuard().ifPresent(nodeInfo::wireGuard);
        member.bindMetrics(telemetry.registry());
        return member;
    }

    /** Stops serving and detaches from the machines without stopping them. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (member != null) member.close();
        api.close();
        machines.close();
        network.close();
        store.close();
        telemetry.close();
    }

    private boolean closed;
}
