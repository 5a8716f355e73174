package dev.bolero.agent.machine;

import dev.bolero.network.Attachment;
import dev.bolero.oci.PreparedImage;
import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.guest.GuestConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One run's plan as the {@link MachineHook#prepare} hooks fill it in: the image and what the guest runs from it, the
 * root drive's size, the network attachment. Then the VM's spec and the guest's config are derived from it. Used by
 * one thread at a time.
 */
final class Launch {
    private static final String ROOT_DEVICE = "/dev/vda";

    private final MachineRecord machine;
    private PreparedImage image;
    private WorkloadSpec workload;
    private long rootDriveBytes;
    private Optional<Attachment> network = Optional.empty();

    Launch(MachineRecord machine) {
        this.machine = Objects.requireNonNull(machine, "machine");
    }

    MachineRecord machine() {
        return machine;
    }

    /**
     * Sets the image, what the guest runs and the size of the machine's root drive.
     *
     * @param rootDriveBytes 0 for the image drive's own size
     */
    void image(PreparedImage image, WorkloadSpec workload, long rootDriveBytes) {
        this.image = Objects.requireNonNull(image, "image");
        this.workload = Objects.requireNonNull(workload, "workload");
        this.rootDriveBytes = rootDriveBytes;
    }

    /** Sets the machine's network attachment (tap, address, gateway, DNS). */
    void network(Attachment attachment) {
        this.network = Optional.of(attachment);
    }

    /** The prepared image. @throws IllegalStateException when no hook prepared one */
    PreparedImage image() {
        if (image == null) throw new IllegalStateException("launch of machine " + machine.id() + ": no image prepared");
        return image;
    }

    /** What the guest is sent on HELLO. */
    GuestConfig guestConfig() {
        image();
        return new GuestConfig(workload.argv(), workload.env(), workload.workdir(), workload.user(), machine.name(),
                ROOT_DEVICE, network.map(Attachment::ipCidr), network.map(Attachment::gateway),
                network.map(Attachment::dns).orElse(List.of()));
    }

    /** What the driver starts. */
    VmSpec vmSpec(Path workDir, BootAssets boot, Duration stopGrace) {
        List<VmSpec.Tap> taps = network.map(a -> List.of(new VmSpec.Tap(a.tapName(), a.mac()))).orElse(List.of());
        return new VmSpec(machine.id(), workDir, machine.config().guest().cpus(), machine.config().guest().memoryMb(),
                boot, image().rootDrive(), taps, stopGrace, rootDriveBytes);
    }
}
