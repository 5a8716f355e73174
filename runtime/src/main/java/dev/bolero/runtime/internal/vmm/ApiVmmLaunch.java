package dev.bolero.runtime.internal.vmm;

import dev.bolero.runtime.VmHandle;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.VmmException;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Spawning a KVM VMM that is driven over a REST API on a Unix socket (Firecracker, Cloud Hypervisor), directly or
 * in a {@link Jail}. Jailed, the VMM's root holds only: its executable (and the system libraries when it is
 * dynamically linked), the kernel and initramfs (bound read-only at {@link #KERNEL}, {@link #INITRAMFS}), the
 * machine's private root drive ({@link #ROOT_DRIVE}, the uid's own), what the driver adds, and {@code /run} (the
 * uid's own, mode 0700) where the VMM creates its API and vsock sockets; {@code /dev} holds {@code /dev/kvm} and,
 * with taps, {@code /dev/net/tun}. The agent reaches the sockets from outside through the jail's path.
 */
public final class ApiVmmLaunch {
    /** In-jail paths. */
    public static final String KERNEL = "/vmlinux";
    public static final String INITRAMFS = "/initramfs";
    public static final String ROOT_DRIVE = "/rootfs.raw";
    public static final String API_SOCKET = "/run/api.sock";
    public static final String VSOCK_SOCKET = "/run/vsock.sock";

    private static final Duration PID_DEADLINE = Duration.ofSeconds(10);

    private ApiVmmLaunch() {}

    /** A spawned VMM: the process this JVM spawned (the VMM, or the jailer that waits for it) and the VMM itself. */
    public record Spawned(HostProcess child, HostProcess vmm, long startTicks) {
        /**
         * The machine's handle: this VMM's pid and start, the API socket, vsock socket and log every API-driven VMM
         * has, the jail lease's data when jailed, and the driver's {@code extra} entries.
         */
        public VmHandle handle(String driver, int version, Path apiSocket, Path vsockSocket, Path log,
                Optional<Jail.Lease> lease, Map<String, String> extra) {
            Map<String, String> data = new HashMap<>(Map.of(
                    VmmProcess.API_SOCKET, apiSocket.toString(),
                    VmmProcess.VSOCK_SOCKET, vsockSocket.toString(),
                    VmmProcess.LOG_FILE, log.toString(),
                    VmmProcess.START_TICKS, Long.toString(startTicks)));
            data.putAll(extra);
            lease.ifPresent(l -> data.putAll(l.handleData()));
            return new VmHandle(driver, version, vmm.pid(), HostProcesses.startInstant(startTicks), data);
        }

        /** Kills the VMM and the process spawned for it, and waits until both are gone. */
        public void kill() {
            vmm.kill();
            child.kill();
            child.onExit().join();
            vmm.onExit().join();
        }
    }

    /**
     * The VMM of {@code handle} ({@link VmmProcess#adopt}); when it is gone, its jail, if it had one, is released.
     *
     * @throws VmmException when the handle is another driver's or of an unknown version, or misses a key
     */
    public static Optional<HostProcess> adopt(VmHandle handle, String driver, int version) throws VmmException {
        Optional<HostProcess> process = VmmProcess.adopt(handle, driver, version);
        if (process.isEmpty()) Jail.Lease.fromHandle(handle.data()).ifPresent(Jail::release);
        return process;
    }

    /** What a failed start adds to its error: {@code "; <vmm> said: "} and the end of its log, or nothing. */
    public static String said(String vmm, Path log) {
        return Files.exists(log) ? "; " + vmm + " said: " + MachineFiles.tail(log, 2000).strip() : "";
    }

    /**
     * Prepares the machine's jail ({@link Jail#prepare}) with its private copy of the root drive in it.
     *
     * @throws VmmException naming what failed; nothing is left behind then
     */
    public static Jail.Lease prepare(Jail jail, VmSpec spec) throws VmmException {
        Jail.Lease lease = jail.prepare(spec.machineId(), spec.workDir().toAbsolutePath().resolve("jail"), spec.cpus(),
                spec.memoryMb());
        try {
            Path drive = lease.host(ROOT_DRIVE);
            MachineFiles.copyRootDrive(spec.rootDrive(), drive, spec.rootDriveSize());
            Jail.give(lease, drive);
            Files.setPosixFilePermissions(drive, PosixFilePermissions.fromString("rw-------"));
            return lease;
        } catch (VmmException | IOException | RuntimeException e) {
            Jail.release(lease);
            throw e instanceof VmmException v ? v
                    : new VmmException("prepare jail of machine " + spec.machineId() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The jailer command that runs {@code binary} with {@code args} (paths as the VMM sees them) in the lease's jail.
     */
    public static List<String> command(Jail jail, Jail.Lease lease, VmSpec spec, Path binary, Path pidFile,
            List<String> args) throws VmmException, IOException {
        List<Jail.Bind> binds = new ArrayList<>(Jail.executable(lease, binary));
        binds.add(new Jail.Bind(spec.boot().kernel().toRealPath(), KERNEL));
        binds.add(new Jail.Bind(spec.boot().initramfs().toRealPath(), INITRAMFS));
        List<Path> devices = new ArrayList<>(List.of(Path.of("/dev/kvm")));
        if (!spec.taps().isEmpty()) devices.add(Path.of("/dev/net/tun"));
        List<String> vmm = new ArrayList<>(List.of(binary.toString()));
        vmm.addAll(args);
        return jail.command(lease, pidFile, binds, devices, spec.taps().stream().map(VmSpec.Tap::name).toList(), vmm);
    }

    /**
     * Spawns {@code command} in its own session and waits until the VMM's API socket accepts connections.
     *
     * @param pidFile where the jailer records the VMM's pid; empty when {@code command} runs the VMM itself
     * @throws VmmException when the VMM exits first or is not up in time; nothing is left running then
     */
    public static Spawned spawn(String action, List<String> command, Path log, VmmApi api, Duration deadline,
            Optional<Path> pidFile) throws VmmException {
        HostProcess child = HostProcesses.spawn(action, command, log);
        try {
            api.awaitListening(deadline, child::isAlive);
            long pid = pidFile.isPresent() ? Jail.awaitPid(child, pidFile.get(), PID_DEADLINE) : child.pid();
            OptionalLong ticks = HostProcesses.startTicks(pid);
            Optional<HostProcess> vmm = ticks.isEmpty() ? Optional.empty()
                    : pid == child.pid() ? Optional.of(child) : HostProcesses.find(pid, ticks.getAsLong());
            if (vmm.isEmpty()) throw new VmmException("the VMM (pid " + pid + ") exited at once");
            return new Spawned(child, vmm.get(), ticks.getAsLong());
        } catch (VmmException | RuntimeException e) {
            child.kill();
            child.onExit().join();
            pidFile.ifPresent(Jail::killRecorded);
            throw e;
        }
    }
}
