package dev.bolero.agent.machine;

import dev.bolero.agent.logs.LogStore;
import dev.bolero.oci.ImageStore;
import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.VmmDriver;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * What the node's machine runners run machines with.
 *
 * @param machinesDir the parent of every machine's own directory
 * @param bootDeadline how long a guest may take from VMM spawn to a started workload
 * @param network attaches machines to the node's network
 * @param volumes the volumes living on the node, which machines mount
 * @param templates the node's templates, which warm-start machines start from
 */
public record NodeRuntime(
        ImageStore images,
        VmmDriver driver,
        BootSource boot,
        LogStore logs,
        Path machinesDir,
        Duration bootDeadline,
        MachineNetwork network,
        NodeVolumes volumes,
        TemplateStore templates) {

    public NodeRuntime {
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(driver, "driver");
        Objects.requireNonNull(boot, "boot");
        Objects.requireNonNull(logs, "logs");
        Objects.requireNonNull(machinesDir, "machinesDir");
        Objects.requireNonNull(bootDeadline, "bootDeadline");
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(volumes, "volumes");
        Objects.requireNonNull(templates, "templates");
    }

    /** The kernel and initramfs guests boot; built on first use. */
    @FunctionalInterface
    public interface BootSource {
        /** @throws IOException naming what could not be prepared */
        BootAssets get() throws IOException;
    }

    /** A machine's own directory. */
    Path machineDir(String id) {
        return machinesDir.resolve(id);
    }
}
