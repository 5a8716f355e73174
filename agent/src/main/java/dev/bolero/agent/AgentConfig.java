package dev.bolero.agent;

import dev.bolero.network.NetworkConfig;
import dev.bolero.runtime.qemu.QemuDriver;
import java.nio.file.Path;
import java.time.Duration;
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
 * @param kernel the guest kernel (a vmlinuz or vmlinux); empty: the newest one under {@code /boot}
 * @param bootDeadline how long a guest may take to start its workload
 * @param network the node network machines are attached to; empty: machines get no network (and cannot publish
 *     ports), for hosts where the agent may not create devices and nftables tables
 */
public record AgentConfig(
        String host,
        int port,
        Path dataDir,
        Set<String> insecureRegistries,
        QemuDriver.Accel accelerator,
        Optional<Path> kernel,
        Duration bootDeadline,
        Optional<NetworkConfig> network) {

    public AgentConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(accelerator, "accelerator");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(bootDeadline, "bootDeadline");
        Objects.requireNonNull(network, "network");
        insecureRegistries = Set.copyOf(insecureRegistries);
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0-65535, got " + port);
    }

    /** An agent whose machines get no network. */
    public AgentConfig(String host, int port, Path dataDir, Set<String> insecureRegistries, QemuDriver.Accel accelerator,
            Optional<Path> kernel, Duration bootDeadline) {
        this(host, port, dataDir, insecureRegistries, accelerator, kernel, bootDeadline, Optional.empty());
    }
}
