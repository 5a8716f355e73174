package dev.bolero.runtime.cloudhypervisor;

import dev.bolero.runtime.DriverCapabilities;
import dev.bolero.runtime.VmHandle;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.VmmDriver;
import dev.bolero.runtime.VmmException;
import dev.bolero.runtime.internal.vmm.ApiRequest;
import dev.bolero.runtime.internal.vmm.HostProcess;
import dev.bolero.runtime.internal.vmm.HostProcesses;
import dev.bolero.runtime.internal.vmm.Kvm;
import dev.bolero.runtime.internal.vmm.MachineFiles;
import dev.bolero.runtime.internal.vmm.VmmApi;
import dev.bolero.runtime.internal.vmm.VmmProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs machines in Cloud Hypervisor: spawns {@code cloud-hypervisor --api-socket …} in its own session, then
 * {@code vm.create} and {@code vm.boot} over its REST API on the Unix socket. The guest's serial console goes to
 * {@code console.log} in the work directory; the control channel is Cloud Hypervisor's hybrid vsock
 * ({@code CONNECT 1024}). Stopping presses the ACPI power button, and after the grace period shuts the VM and the
 * VMM down before killing it.
 *
 * <p>The kernel must be an uncompressed ELF {@code vmlinux}. Each machine gets a writable reflink copy of the
 * shared root drive in its work directory.
 */
public final class CloudHypervisorDriver implements VmmDriver {

    /** The guest vsock port {@code bolero-init} listens on when it finds no virtio-serial port. */
    public static final int CONTROL_PORT = 1024;

    static final String NAME = "cloud-hypervisor";
    static final int HANDLE_VERSION = 1;

    private static final Logger LOG = LoggerFactory.getLogger(CloudHypervisorDriver.class);
    private static final Duration API_DEADLINE = Duration.ofSeconds(10);

    private final Optional<Path> binary;

    /** @param binary the {@code cloud-hypervisor} executable; empty to look it up on {@code PATH} at each start */
    public CloudHypervisorDriver(Optional<Path> binary) {
        this.binary = Objects.requireNonNull(binary, "binary");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public DriverCapabilities capabilities() {
        return new DriverCapabilities(
                "kvm", Kvm.unusableReason().orElse("hardware virtualisation available"), false, true, false);
    }

    @Override
    public Optional<String> unusableReason() {
        return Kvm.vmmUnusableReason(NAME, binary);
    }

    @Override
    public VmProcess start(VmSpec spec) throws VmmException {
        String action = "start machine " + spec.machineId() + " in cloud-hypervisor";
        Path vmm = binary.or(() -> HostProcesses.onPath(NAME))
                .orElseThrow(() -> new VmmException(action + ": cloud-hypervisor not found on PATH"));
        MachineFiles.requireVmlinux(NAME, spec.boot().kernel());
        Path apiSocket = spec.workDir().resolve("api.sock");
        Path vsockSocket = spec.workDir().resolve("vsock.sock");
        Path log = spec.workDir().resolve("vmm.log");
        MachineFiles.requireSocketPath(action, vsockSocket);
        CloudHypervisorApi.VmmPaths paths = new CloudHypervisorApi.VmmPaths(
                spec.workDir().resolve("rootfs.raw"), vsockSocket, spec.workDir().resolve("console.log"));
        HostProcess process = null;
        try {
            Files.createDirectories(spec.workDir());
            MachineFiles.copyRootDrive(spec.rootDrive(), paths.rootDrive(), spec.rootDriveSize());
            process = HostProcesses.spawn(action, List.of(vmm.toString(), "--api-socket", "path=" + apiSocket), log);
            OptionalLong ticks = HostProcesses.startTicks(process.pid());
            if (ticks.isEmpty()) throw new VmmException("cloud-hypervisor exited at once");
            VmmApi api = new VmmApi(NAME, apiSocket, CloudHypervisorApi.BASE_PATH);
            api.awaitListening(API_DEADLINE, process::isAlive);
            for (ApiRequest request : CloudHypervisorApi.boot(spec, paths)) api.send(request);
            VmHandle handle = new VmHandle(NAME, HANDLE_VERSION, process.pid(),
                    HostProcesses.startInstant(ticks.getAsLong()), Map.of(
                            VmmProcess.API_SOCKET, apiSocket.toString(),
                            VmmProcess.VSOCK_SOCKET, vsockSocket.toString(),
                            VmmProcess.LOG_FILE, log.toString(),
                            VmmProcess.START_TICKS, Long.toString(ticks.getAsLong())));
            LOG.info("started machine={} pid={}", spec.machineId(), process.pid());
            return process(handle, process, Optional.of(process), api);
        } catch (VmmException | IOException | RuntimeException e) {
            String said = "";
            if (process != null) {
                process.kill();
                process.onExit().join();
                said = "; cloud-hypervisor said: " + MachineFiles.tail(log, 2000).strip();
            }
            throw new VmmException(action + ": " + e.getMessage() + said, e);
        }
    }

    @Override
    public Optional<VmProcess> recover(VmHandle handle) throws VmmException {
        Optional<HostProcess> process = VmmProcess.adopt(handle, NAME, HANDLE_VERSION);
        if (process.isEmpty()) return Optional.empty();
        VmmApi api = new VmmApi(NAME, Path.of(handle.data().get(VmmProcess.API_SOCKET)), CloudHypervisorApi.BASE_PATH);
        return Optional.of(process(handle, process.get(), Optional.empty(), api));
    }

    private static VmProcess process(VmHandle handle, HostProcess process, Optional<HostProcess> child, VmmApi api) {
        return new VmmProcess(handle, process, child, Path.of(handle.data().get(VmmProcess.LOG_FILE)),
                VmmProcess.api(api, Path.of(handle.data().get(VmmProcess.VSOCK_SOCKET)), CONTROL_PORT,
                        CloudHypervisorApi.politeStop(), CloudHypervisorApi.forcefulStop()),
                List.of());
    }

}
