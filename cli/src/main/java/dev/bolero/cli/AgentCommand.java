package dev.bolero.cli;

import dev.bolero.agent.Agent;
import dev.bolero.agent.AgentConfig;
import dev.bolero.agent.machine.TemplateLimits;
import dev.bolero.agent.cluster.ClusterConfig;
import dev.bolero.agent.cluster.PrivateNetworkConfig;
import dev.bolero.runtime.JailConfig;
import dev.bolero.runtime.drivers.Drivers;
import dev.bolero.oci.ImageLimits;
import dev.bolero.oci.RegistryConfig;
import dev.bolero.runtime.qemu.QemuDriver;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bolero agent}: runs the node agent until interrupted. Machines keep running when it exits. */
@Command(name = "agent", mixinStandardHelpOptions = true, description = "Run the node agent.")
final class AgentCommand implements Callable<Integer> {
    @Mixin
    LogFormat logFormat;

    @Option(names = "--listen", defaultValue = "127.0.0.1:7070", description = "host:port of the node API (default ${DEFAULT-VALUE})")
    String listen;

    @Option(names = "--data-dir", defaultValue = "/var/lib/bolero", description = "where the agent keeps its state (default ${DEFAULT-VALUE})")
    Path dataDir;

    @Option(names = "--insecure-registry", description = "a registry host:port reached over plain HTTP (loopback ones always are)")
    List<String> insecureRegistries = new ArrayList<>();

    @Option(names = "--accel", defaultValue = "auto", description = "auto, kvm or tcg (default ${DEFAULT-VALUE})")
    QemuDriver.Accel accelerator;

    @Option(names = "--kernel", description = "guest kernel: a lean vmlinux, or a distribution vmlinuz-<version> whose modules are under /lib/modules;"
            + " default: the lean kernel scripts/build-kernel.sh built, else the newest vmlinuz under /boot")
    Path kernel;

    @Option(names = "--boot-timeout", defaultValue = "120", description = "seconds a guest may take to start its workload (default ${DEFAULT-VALUE})")
    int bootTimeoutSeconds;

    @Option(names = "--server", split = ",", description = "join the control plane at this URL (http://host:port); its assignments become this node's machines. "
            + "Repeat it (or separate by commas) to name several replicas: the agent moves to the next when one does not answer")
    List<URI> servers = new ArrayList<>();

    @Option(names = "--join-token", description = "the cluster's join token (or BOLERO_JOIN_TOKEN); needed only until DATA_DIR/node.json exists")
    String joinToken;

    @Option(names = "--labels", description = "node labels k=v,k2=v2; region=… names the node's region")
    String labels;

    @Option(names = "--node-name", description = "the node's name (default: the host name)")
    String nodeName;

    @Option(names = "--driver", defaultValue = Drivers.AUTO, description = "auto, firecracker, cloud-hypervisor or qemu (default ${DEFAULT-VALUE}: the first usable)")
    String driver;

    @Option(names = "--jail", negatable = true, description = "run each VMM jailed: own uid, chroot, namespaces, cgroup (default: on when run as root)")
    Boolean jail;

    @Option(names = "--jail-uids", defaultValue = "200000-265535", description = "uid range FIRST-LAST jailed VMMs get theirs from (default ${DEFAULT-VALUE})")
    String jailUids;

    @Option(names = "--vmm-memory-overhead-mb", defaultValue = "256", description = "a jailed VMM's memory limit above guest RAM, MiB (default ${DEFAULT-VALUE})")
    long memoryOverheadMb;

    @Option(names = "--registry-config", description = "a Docker-style config.json whose auths give registry credentials")
    Path registryConfig;

    @Option(names = "--cpu-overcommit", defaultValue = "8", description = "vCPUs per host CPU the machines may have together (default ${DEFAULT-VALUE})")
    double cpuOvercommit;

    @Option(names = "--memory-overcommit", defaultValue = "1", description = "how many times the host's memory the machines may have together (default ${DEFAULT-VALUE})")
    double memoryOvercommit;

    @Option(names = "--image-max-unpacked-mb", defaultValue = "16384", description = "MiB of files one image's layers may unpack to; a decompression bomb stops here (default ${DEFAULT-VALUE})")
    long imageMaxUnpackedMb;

    @Option(names = "--image-max-entries", defaultValue = "1000000", description = "tar entries one image's layers may hold together (default ${DEFAULT-VALUE})")
    long imageMaxEntries;

    @Option(names = "--image-store-budget-mb", description = "MiB the node's image store (blobs and root drives) may hold; a pull that would go over fails"
            + " (default: half the size of the data directory's file system)")
    Long imageStoreBudgetMb;

    @Option(names = "--registry-read-timeout", defaultValue = "30", description = "seconds a registry may leave a pull waiting for a response or any read of one,"
            + " mid-blob included (default ${DEFAULT-VALUE})")
    int registryReadTimeoutSeconds;

    @Option(names = "--max-templates", defaultValue = "16", description = "templates (saved states warm-start machines start from) the node keeps;"
            + " the least recently used go first, 0 takes none (default ${DEFAULT-VALUE})")
    int maxTemplates;

    @Option(names = "--templates-budget-mb", defaultValue = "4096", description = "MiB the node's templates may hold together (default ${DEFAULT-VALUE})")
    long templatesBudgetMb;

    @Mixin
    NetworkFlags network;

    @Mixin
    ClientLimitFlags clientLimits;

    @Option(names = "--private-network-endpoint", description = "join the cluster's private network: IPv4:PORT where other nodes reach this node's WireGuard link (default: no private network)")
    String privateEndpoint;

    @Option(names = "--private-network-listen-port", description = "UDP port the WireGuard link listens on (default: the endpoint's port)")
    Integer privateListenPort;

    @Option(names = "--private-network-link", defaultValue = PrivateNetworkConfig.DEFAULT_LINK, description = "the WireGuard interface's name (default ${DEFAULT-VALUE})")
    String privateLink;

    @Override
    public Integer call() throws Exception {
        int colon = listen.lastIndexOf(':');
        if (colon < 0) throw new IllegalArgumentException("--listen must be host:port, got '" + listen + "'");
        AgentConfig config = new AgentConfig(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1)),
                dataDir.toAbsolutePath(), new HashSet<>(insecureRegistries), accelerator, Optional.ofNullable(kernel),
                Duration.ofSeconds(bootTimeoutSeconds), driver, jailConfig(),
                registryConfig == null ? Map.of() : RegistryConfig.readDockerConfig(registryConfig),
                cpuOvercommit, memoryOvercommit, network.config())
                .withImages(imageLimits(), Duration.ofSeconds(registryReadTimeoutSeconds))
                .withClientLimits(clientLimits.limits())
                .withTemplates(new TemplateLimits(maxTemplates, templatesBudgetMb << 20));
        CountDownLatch stopped = new CountDownLatch(1);
        Optional<ClusterConfig> cluster = cluster();
        try (Agent agent = Agent.start(config)) {
            cluster.ifPresent(c -> System.out.printf("bolero agent joined %s as node %s%n", c.servers(),
                    agent.joinCluster(c).nodeId()));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                agent.close();
                stopped.countDown();
            }, "agent-shutdown"));
            System.out.printf("bolero agent listening on http://%s:%d (data dir %s)%n", config.host(), agent.port(),
                    config.dataDir());
            stopped.await();
        }
        return 0;
    }

    private Optional<ClusterConfig> cluster() throws java.io.IOException {
        if (servers.isEmpty()) return Optional.empty();
        String token = joinToken != null ? joinToken : System.getenv().getOrDefault("BOLERO_JOIN_TOKEN", "");
        String name = nodeName != null ? nodeName
                : java.net.InetAddress.getLocalHost().getHostName().toLowerCase(java.util.Locale.ROOT).split("\\.")[0];
        var cluster = new ClusterConfig(servers, token, name, ClusterConfig.parseLabels(labels), Optional.empty());
        if (privateEndpoint == null) return Optional.of(cluster);
        var p = PrivateNetworkConfig.of(privateEndpoint).withLink(privateLink);
        if (privateListenPort != null) {
            p = new PrivateNetworkConfig(p.endpoint(), privateListenPort, p.link(), p.dnsPort());
        }
        return Optional.of(cluster.withPrivateNetwork(p));
    }

    /** The image limits the flags give; the store budget by default is half the data directory's file system. */
    ImageLimits imageLimits() throws java.io.IOException {
        long budget = imageStoreBudgetMb != null ? imageStoreBudgetMb << 20 : fileSystem(dataDir.toAbsolutePath()).getTotalSpace() / 2;
        return new ImageLimits(imageMaxUnpackedMb << 20, imageMaxEntries, budget);
    }

    /** The file system {@code path} is or will be on: its nearest existing ancestor's. */
    private static java.nio.file.FileStore fileSystem(Path path) throws java.io.IOException {
        Path existing = path;
        while (!java.nio.file.Files.exists(existing) && existing.getParent() != null) {
            existing = existing.getParent();
        }
        return java.nio.file.Files.getFileStore(existing);
    }

    private Optional<JailConfig> jailConfig() {
        boolean on = jail != null ? jail : JailConfig.runningAsRoot();
        if (!on) return Optional.empty();
        return Optional.of(JailConfig.defaults().withUids(jailUids).withMemoryOverheadMb(memoryOverheadMb));
    }
}
