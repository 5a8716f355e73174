package dev.bolero.runtime.internal.vmm;

import dev.bolero.runtime.DriverCapabilities;
import dev.bolero.runtime.JailConfig;
import dev.bolero.runtime.VmmDriver;
import dev.bolero.runtime.VmmException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * What the KVM-only VMM drivers driven over an API socket (Firecracker, Cloud Hypervisor) share: their capabilities,
 * when they are usable, the sweep of their jails' leftovers and the look-up of their executable.
 */
public abstract class KvmVmmDriver implements VmmDriver {
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
        return new DriverCapabilities(
                "kvm", Kvm.unusableReason().orElse("hardware virtualisation available"), false, true, false);
    }

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
