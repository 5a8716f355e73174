package dev.bolero.agent;

import dev.bolero.runtime.JailConfig;
import dev.bolero.runtime.drivers.Drivers;
import dev.bolero.oci.Credentials;
import dev.bolero.oci.ImageLimits;
import dev.bolero.oci.RegistryConfig;
import dev.bolero.agent.machine.NodeCapacity;
import dev.bolero.agent.machine.TemplateLimits;
import dev.bolero.network.NetworkConfig;
import dev.bolero.runtime.qemu.QemuDriver;
import dev.bolero.api.http.ClientLimits;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * How a node agent runs.
 *
 * @param host the address the node API listens on
 * @param port the port (0: any free port)
 * @param dataDir where everything of this agent lives (store, blobs, images, machines)
 * @param insecureRegistries {@code host:port}s reached over plain HTTP besides loopback ones
 * @param accelerator KVM, TCG, or AUTO: KVM where it can boot a stock kernel
 * @param kernel the guest kernel (a distribution vmlinuz-VERSION or a lean vmlinux); empty: the lean kernel when it is
 *     built, else the newest vmlinuz under {@code /boot} (see {@code BootAssetsBuilder})
 * @param bootDeadline how long a guest may take to start its workload
 * @param driver {@code auto} (the first usable of firecracker, cloud-hypervisor, qemu) or a driver's name
 * @param jail how each VMM is confined; empty: VMMs run as the agent's user, unconfined
 * @param registryCredentials per registry name as written in references ({@code docker.io}, {@code host:port})
 * @param cpuOvercommit vCPUs per host CPU the machines may have together (1 to 100)
 * @param memoryOvercommit how many times the host's memory (less a reserve) the machines may have (1 to 100)
 * @param network the node network machines are attached to; empty: machines get no network (and cannot publish
 *     ports), for hosts where the agent may not create devices and nftables tables
 * @param imageLimits what one image and the node's image store may take (see {@link ImageLimits})
 * @param registryReadTimeout how long a registry may leave a pull waiting for a response or for each read of one
 * @param clientLimits what a client of the node API may hold: head and body deadlines, connections per address
 * @param templateLimits how many templates (and bytes of them) the node keeps for warm starts
 */
public record AgentConfig(
        String host,
        int port,
        Path dataDir,
        Set<String> insecureRegistries,
        QemuDriver.Accel accelerator,
        Optional<Path> kernel,
        Duration bootDeadline,
        String driver,
        Optional<JailConfig> jail,
        Map<String, Credentials> registryCredentials,
        double cpuOvercommit,
        double memoryOvercommit,
        Optional<NetworkConfig> network,
        ImageLimits imageLimits,
        Duration registryReadTimeout,
        ClientLimits clientLimits,
        TemplateLimits templateLimits) {

    /**
     * An agent that picks its driver itself, jails its VMMs when it runs as root, has no registry credentials, allows
     * {@value NodeCapacity#DEFAULT_CPU_OVERCOMMIT} vCPUs per CPU and no memory overcommit, and gives machines no network.
     */
    public AgentConfig(String host, int port, Path dataDir, Set<String> insecureRegistries, QemuDriver.Accel accelerator,
            Optional<Path> kernel, Duration bootDeadline) {
        this(host, port, dataDir, insecureRegistries, accelerator, kernel, bootDeadline, Drivers.AUTO,
                JailConfig.whenRoot(), Map.of(), NodeCapacity.DEFAULT_CPU_OVERCOMMIT, 1.0, Optional.empty());
    }

    /**
     * An agent with the {@linkplain ImageLimits#defaults() default image limits} (no store budget) and the
     * {@linkplain RegistryConfig#DEFAULT_READ_TIMEOUT default registry read timeout}, and the
     * {@linkplain ClientLimits#DEFAULT default client limits}.
     */
    public AgentConfig(String host, int port, Path dataDir, Set<String> insecureRegistries, QemuDriver.Accel accelerator,
            Optional<Path> kernel, Duration bootDeadline, String driver, Optional<JailConfig> jail,
            Map<String, Credentials> registryCredentials, double cpuOvercommit, double memoryOvercommit,
            Optional<NetworkConfig> network) {
        this(host, port, dataDir, insecureRegistries, accelerator, kernel, bootDeadline, driver, jail, registryCredentials,
                cpuOvercommit, memoryOvercommit, network, ImageLimits.defaults(), RegistryConfig.DEFAULT_READ_TIMEOUT,
                ClientLimits.DEFAULT, TemplateLimits.DEFAULT);
    }

    public AgentConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(accelerator, "accelerator");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(bootDeadline, "bootDeadline");
        Objects.requireNonNull(driver, "driver");
        Objects.requireNonNull(jail, "jail");
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(imageLimits, "imageLimits");
        Objects.requireNonNull(registryReadTimeout, "registryReadTimeout");
        Objects.requireNonNull(clientLimits, "clientLimits");
        Objects.requireNonNull(templateLimits, "templateLimits");
        insecureRegistries = Set.copyOf(insecureRegistries);
        registryCredentials = Map.copyOf(registryCredentials);
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0-65535, got " + port);
        if (!(cpuOvercommit >= 1.0 && cpuOvercommit <= 100.0 && memoryOvercommit >= 1.0
                && memoryOvercommit <= 100.0)) {
            throw new IllegalArgumentException("overcommit ratios must be between 1 and 100");
        }
    }

    /** This configuration with machines attached to {@code network} (empty: no network). */
    public AgentConfig withNetwork(Optional<NetworkConfig> network) {
        return new AgentConfig(host, port, dataDir, insecureRegistries, accelerator, kernel, bootDeadline, driver, jail,
                registryCredentials, cpuOvercommit, memoryOvercommit, network, imageLimits, registryReadTimeout,
                clientLimits, templateLimits);
    }

    /** This configuration with these image limits and registry read timeout. */
    public AgentConfig withImages(ImageLimits limits, Duration readTimeout) {
        return new AgentConfig(host, port, dataDir, insecureRegistries, accelerator, kernel, bootDeadline, driver, jail,
                registryCredentials, cpuOvercommit, memoryOvercommit, network, limits, readTimeout,
                clientLimits, templateLimits);
    }

    /** This configuration with these limits on the node API's clients. */
    public AgentConfig withClientLimits(ClientLimits limits) {
        return new AgentConfig(host, port, dataDir, insecureRegistries, accelerator, kernel, bootDeadline, driver, jail,
                registryCredentials, cpuOvercommit, memoryOvercommit, network, imageLimits, registryReadTimeout, limits,
                templateLimits);
    }

    /** This configuration with these limits on the node's templates. */
    public AgentConfig withTemplates(TemplateLimits limits) {
        return new AgentConfig(host, port, dataDir, insecureRegistries, accelerator, kernel, bootDeadline, driver, jail,
                registryCredentials, cpuOvercommit, memoryOvercommit, network, imageLimits, registryReadTimeout,
                clientLimits, limits);
    }
}
