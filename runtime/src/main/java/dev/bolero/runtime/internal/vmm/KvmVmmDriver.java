package dev.bolero.runtime.internal.vmm;

import dev.bolero.runtime.DriverCapabilities;
import dev.bolero.runtime.JailConfig;
import dev.bolero.runtime.Snapshot;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.VmmDriver;
import dev.bolero.runtime.VmmException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What the KVM-only VMM drivers driven over an API socket (Firecracker, Cloud Hypervisor) share: their capabilities,
 * when they are usable, the sweep of their jails' leftovers and the look-up of their executable.
 */
public abstract class KvmVmmDriver implements VmmDriver {
    /** An unjailed VMM's writable copy of the root drive, in the machine's work directory. */
    protected static final String ROOT_DRIVE = "rootfs.raw";
    private final String name;
    private final Optional<Path> binary;
    /** Bolero's jail, when the VMM runs in one. */
    protected final Optional<Jail> jail;

    /**
     * @param name the driver's and the VMM executable's name
     * @param binary the executable; empty to look it up on {@code PATH} at each start
     * @param jail Bolero's jail for each VMM; empty to run it unjailed
     */
    protected KvmVmmDriver(String name, Optional<Path> binary, Optional<Jail> jail) {
        this.name = Objects.requireNonNull(name, "name");
        this.binary = Objects.requireNonNull(binary, "binary");
        this.jail = Objects.requireNonNull(jail, "jail");
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final DriverCapabilities capabilities() {
        return new DriverCapabilities("kvm", Kvm.unusableReason().orElse("hardware virtualisation available"),
                jail.isEmpty(), true, false);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Only an unjailed VMM can: a jail, with the files its VMM wrote, goes with the VMM.
     */
    @Override
    public final Optional<String> snapshotUnusable(VmSpec spec, Map<String, String> dependencies) {
        if (jail.isPresent()) return Optional.of("a jailed " + name + " cannot resume snapshots");
        if (!Snapshot.exists(spec.workDir())) return Optional.of("no snapshot");
        try {
            return Snapshot.unusableReason(spec.workDir(), snapshotLaunch(spec, executable("resume machine "
                    + spec.machineId())), dependencies);
        } catch (VmmException e) {
            return Optional.of(e.getMessage());
        }
    }

    /**
     * What an unjailed VMM started from {@code spec} depends on (see {@link Snapshot#launch}); its writable root drive
     * is {@code rootfs.raw} in the work directory.
     */
    protected static Map<String, String> snapshotLaunch(VmSpec spec, Path vmm) throws VmmException {
        return Snapshot.launch(spec, vmm, VmmVersion.of(vmm), spec.workDir().resolve(ROOT_DRIVE));
    }

    @Override
    public final VmProcess start(VmSpec spec) throws VmmException {
        return spawn("start machine " + spec.machineId() + " in " + name, spec, false);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Only an unjailed VMM can; the machine's {@code rootfs.raw} is kept.
     */
    @Override
    public final VmProcess resume(VmSpec spec) throws VmmException {
        String action = "resume machine " + spec.machineId() + " in " + name;
        if (jail.isPresent()) throw new VmmException(action + ": a jailed " + name + " cannot resume snapshots");
        VmProcess process = spawn(action, spec, true);
        Snapshot.discard(spec.workDir());
        return process;
    }

    /**
     * Prepares the machine's files and spawns the VMM, then boots the VM ({@code resume} false: a fresh root drive
     * copy) or loads the machine's {@link Snapshot} into it ({@code resume}: the existing root drive).
     *
     * @throws VmmException naming {@code action}; nothing is left running then
     */
    protected abstract VmProcess spawn(String action, VmSpec spec, boolean resume) throws VmmException;

    @Override
    public final Optional<String> unusableReason() {
        if (jail.isPresent() && !JailConfig.runningAsRoot()) return Optional.of("jailing needs root");
        return Kvm.vmmUnusableReason(name, binary);
    }

    @Override
    public final void releaseLeftovers() {
        jail.ifPresent(Jail::sweep);
    }

    /**
     * The VMM executable: the configured one, else the one on {@code PATH}.
     *
     * @throws VmmException naming {@code action} when there is none on {@code PATH}
     */
    protected final Path executable(String action) throws VmmException {
        return binary.or(() -> HostProcesses.onPath(name))
                .orElseThrow(() -> new VmmException(action + ": " + name + " not found on PATH"));
    }
}
