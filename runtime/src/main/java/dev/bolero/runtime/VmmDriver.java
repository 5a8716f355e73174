package dev.bolero.runtime;

import java.util.Optional;

/**
 * A hypervisor: starts VMM processes and re-adopts ones it started earlier.
 *
 * <p>VMM processes a driver starts run in their own session: they survive the exit or crash of the JVM that
 * started them, so that a restarted agent can {@link #recover(VmHandle) recover} them.
 */
public interface VmmDriver {

    /** The driver's name as used on the command line and in handles: {@code qemu}, {@code firecracker}, … */
    String name();

    /** What this driver can do on this host (acceleration, snapshots, …). */
    DriverCapabilities capabilities();

    /**
     * Why this driver cannot start machines on this host (its VMM is not installed, it needs KVM that cannot run
     * guests here, …), or empty when it can.
     */
    Optional<String> unusableReason();

    /**
     * Prepares the machine's private files under {@link VmSpec#workDir()} (e.g. a copy-on-write view of the root
     * drive) and spawns the VMM. Returns once the VMM process runs; the guest boots asynchronously.
     *
     * @throws VmmException naming the failed action when the VMM cannot be started; nothing is left running then
     */
    VmProcess start(VmSpec spec) throws VmmException;

    /**
     * Why the {@link Snapshot} in {@code spec.workDir()} cannot resume the machine now: what changed since the suspend
     * (kernel, initramfs, VMM binary or version, the VM's shape, the root drive, the caller's {@code dependencies}),
     * a state file missing or of the wrong size, no snapshot at all, or a driver that cannot resume here. Empty when
     * {@link #resume} may use it.
     */
    default Optional<String> snapshotUnusable(VmSpec spec, java.util.Map<String, String> dependencies) {
        return Optional.of("the " + name() + " driver cannot resume snapshots here");
    }

    /**
     * Spawns a VMM that continues the VM from its {@link Snapshot} (check {@link #snapshotUnusable} first) instead of
     * booting: the same devices, the machine's existing root drive, the saved memory. Returns once the guest runs
     * again; the snapshot is removed then (the VM has moved on from it).
     *
     * @throws VmmException naming the failed action when the VMM cannot load the state; nothing is left running then
     *     and the snapshot is kept for the caller to discard
     */
    default VmProcess resume(VmSpec spec) throws VmmException {
        throw new VmmException("resume machine " + spec.machineId() + ": the " + name()
                + " driver cannot resume snapshots here");
    }

    /**
     * Makes the {@link Snapshot} of a new machine in {@code workDir} from {@code seed} (see {@link VmProcess#seed}):
     * the machine's own copy-on-write root drive over the seed's and a snapshot planted from its state, so that
     * the machine's next {@link #resume} continues the seed's VM. The seed may be removed afterwards.
     *
     * @param dependencies the new machine's own (its config, …), as {@link #snapshotUnusable} will compare them
     * @throws VmmException naming the failed action; nothing is left in {@code workDir} then
     */
    default void plant(java.nio.file.Path seed, java.nio.file.Path workDir, java.util.Map<String, String> dependencies)
            throws VmmException {
        throw new VmmException("plant a snapshot in " + workDir + ": the " + name() + " driver cannot start machines"
                + " from another's state here");
    }

    /**
     * The serial the guest reads for {@code drive} ({@code /sys/block/vdX/serial}), by which it finds the volume: the
     * drive's own where the VMM passes it on (QEMU, Cloud Hypervisor); a VMM that makes up its own gives that.
     *
     * @throws VmmException when the VMM's serial cannot be known (the drive's file cannot be read)
     */
    default String guestSerial(VmSpec.Drive drive) throws VmmException {
        return drive.serial();
    }

    /**
     * Re-adopts a VMM started earlier (possibly by another JVM) from its handle. Identity is checked by process id
     * <em>and</em> process start time, never the pid alone.
     *
     * @return the running VMM, or empty when it is gone (or the pid now belongs to another process)
     * @throws VmmException when the handle belongs to another driver or to an unknown handle version
     */
    Optional<VmProcess> recover(VmHandle handle) throws VmmException;

    /**
     * Releases host resources that VMMs of this driver left behind when they (or the agent that started them)
     * died unseen and that no handle will recover: for a jailing driver, uid claims and cgroups no live process
     * holds. Call it once the agent has re-adopted its machines and killed the VMMs it did not adopt. Never touches
     * what a live VMM, or another agent's start in progress, holds; problems are logged, not thrown.
     */
    default void releaseLeftovers() {}
}
