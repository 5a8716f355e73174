package dev.bolero.agent.machine;

import dev.bolero.api.ApiException;
import dev.bolero.core.MachineSpec;
import dev.bolero.network.Attachment;
import dev.bolero.oci.PreparedImage;
import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.guest.GuestConfig;
import dev.bolero.runtime.guest.GuestSecret;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One run's plan as the {@link MachineHook#prepare} hooks fill it in (the image, the network attachment, the volumes),
 * and the VM's
 * spec and the guest's config derived from it. Used by one thread at a time.
 */
final class Launch {
    private static final String ROOT_DEVICE = "/dev/vda";
    private static final long MIB = 1024L * 1024;

    private final MachineRecord machine;
    private final boolean resumes;
    private PreparedImage image;
    private Optional<Attachment> network = Optional.empty();
    private List<GuestSecret> secrets = List.of();
    private final List<VmSpec.Drive> drives = new ArrayList<>();
    private final List<GuestConfig.Mount> mounts = new ArrayList<>();

    /** @param resumes whether the machine has a snapshot to resume (which may still prove unusable) */
    Launch(MachineRecord machine, boolean resumes) {
        this.machine = Objects.requireNonNull(machine, "machine");
        this.resumes = resumes;
    }

    MachineRecord machine() {
        return machine;
    }

    /** Whether the machine has a snapshot to resume: its image is the one that snapshot ran. */
    boolean resumes() {
        return resumes;
    }

    /** Sets the image. */
    void image(PreparedImage image) {
        this.image = Objects.requireNonNull(image, "image");
    }

    /** Sets the machine's network attachment (tap, address, gateway, DNS). */
    void network(Attachment attachment) {
        this.network = Optional.of(attachment);
    }

    /** Sets the values of the machine's secrets, as the guest gives them to the workload. */
    void secrets(List<GuestSecret> secrets) {
        this.secrets = List.copyOf(secrets);
    }

    /** Adds a volume: {@code drive} for the VM, which the guest mounts as {@code mount} says. */
    void volume(VmSpec.Drive drive, GuestConfig.Mount mount) {
        drives.add(drive);
        mounts.add(mount);
    }

    /** The prepared image. @throws IllegalStateException when no hook prepared one */
    PreparedImage image() {
        if (image == null) throw new IllegalStateException("launch of machine " + machine.id() + ": no image prepared");
        return image;
    }

    /**
     * What the guest is sent on HELLO: the image's config with the machine's {@code init} and {@code env} merged over
     * it ({@link WorkloadSpec}), and the secrets' values.
     *
     * @throws ApiException {@code failed_precondition} when neither names a program
     */
    GuestConfig guestConfig() {
        MachineSpec config = machine.config();
        WorkloadSpec workload = WorkloadSpec.merge(config.image().value(), image().config(), config.init(), config.env());
        return new GuestConfig(workload.argv(), workload.env(), workload.workdir(), workload.user(), machine.name(),
                ROOT_DEVICE, network.map(Attachment::ipCidr), network.map(Attachment::gateway),
                network.map(Attachment::dns).orElse(List.of()), network.map(Attachment::search).orElse(List.of()),
                secrets, mounts, config.init().onTerminal() ? GuestConfig.Stdin.TERMINAL
                        : config.init().stdinOpen() ? GuestConfig.Stdin.PIPE : GuestConfig.Stdin.CLOSED);
    }

    /**
     * What the driver starts.
     *
     * @throws ApiException {@code failed_precondition} when guest.rootfs_mb is smaller than the image's drive
     */
    VmSpec vmSpec(Path workDir, BootAssets boot, Duration stopGrace) {
        List<VmSpec.Tap> taps = network.map(a -> List.of(new VmSpec.Tap(a.tapName(), a.mac()))).orElse(List.of());
        return new VmSpec(machine.id(), workDir, machine.config().guest().cpus(), machine.config().guest().memoryMb(),
                boot, image().rootDrive(), taps, stopGrace, rootDriveBytes(), drives);
    }

    /** The machine's root drive size: 0 for the image's own, else guest.rootfs_mb, which must not be smaller. */
    private long rootDriveBytes() {
        Integer mb = machine.config().guest().rootfsMb();
        if (mb == null) return 0;
        long bytes = mb * MIB;
        if (bytes < image.rootDriveBytes()) {
            throw ApiException.failedPrecondition("start machine " + machine.id() + ": guest.rootfs_mb " + mb
                    + " is smaller than the root drive of " + machine.config().image() + " ("
                    + (image.rootDriveBytes() + MIB - 1) / MIB + " MiB)");
        }
        return bytes;
    }
}
