package dev.bolero.agent;

import dev.bolero.agent.machine.NodeCapacity;
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
 * @param cpuOvercommit vCPUs per host CPU the machines may have together (1 to 100)
 * @param memoryOvercommit how many times the host's memory (less a reserve) the machines may have (1 to 100)
 */
public record AgentConfig(
        String host,
        int port,
        Path dataDir,
        Set<String> insecureRegistries,
        QemuDriver.Accel accelerator,
        Optional<Path> kernel,
        Duration bootDeadline,
        double cpuOvercommit,
        double memoryOvercommit) {

    public AgentConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(accelerator, "accelerator");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(bootDeadline, "bootDeadline");
        insecureRegistries = Set.copyOf(insecureRegistries);
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0-65535, got " + port);
        if (!(cpuOvercommit >= 1.0 && cpuOvercommit <= 100.0 && memoryOvercommit >= 1.0
                && memoryOvercommit <= 100.0)) {
            throw new IllegalArgumentException("overcommit ratios must be between 1 and 100");
        }
    }

    /** A config with {@value NodeCapacity#DEFAULT_CPU_OVERCOMMIT} vCPUs per CPU and no memory overcommit. */
    public AgentConfig(String host, int port, Path dataDir, Set<String> insecureRegistries,
            QemuDriver.Accel accelerator, Optional<Path> kernel, Duration bootDeadline) {
        this(host, port, dataDir, insecureRegistries, accelerator, kernel, bootDeadline,
                NodeCapacity.DEFAULT_CPU_OVERCOMMIT, 1.0);
    }
}
