package dev.bolero.runtime.cloudhypervisor;

import dev.bolero.runtime.JailConfig;
import dev.bolero.runtime.Snapshot;
import dev.bolero.runtime.VmHandle;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.VmmException;
import dev.bolero.runtime.internal.vmm.ApiRequest;
import dev.bolero.runtime.internal.vmm.ApiVmmLaunch;
import dev.bolero.runtime.internal.vmm.HostProcess;
import dev.bolero.runtime.internal.vmm.Jail;
import dev.bolero.runtime.internal.vmm.KvmVmmDriver;
import dev.bolero.runtime.internal.vmm.MachineFiles;
import dev.bolero.runtime.internal.vmm.VmmApi;
import dev.bolero.runtime.internal.vmm.VmmProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs machines in Cloud Hypervisor: spawns {@code cloud-hypervisor --api-socket … --seccomp true} (its seccomp
 * filters always on) in its own session, then {@code vm.create} and {@code vm.boot} over its REST API on the Unix
 * socket. The guest's serial console goes to {@code console.log} in the work directory; the control channel is
 * Cloud Hypervisor's hybrid vsock ({@code CONNECT 1024}). Stopping presses the ACPI power button, and after the grace
 * period shuts the VM and the VMM down before killing it.
 *
 * <p>Jailed (a {@link JailConfig} given; what the agent uses whenever jailing is on), Cloud Hypervisor runs through
 * {@code bolero-jailer} like QEMU and Firecracker (see {@link ApiVmmLaunch}): its own uid/gid from the range, new
 * mount, PID and IPC namespaces, a chroot at {@code workDir/jail} holding only the executable, the kernel and
 * initramfs (read-only), the private root drive, the console log (a hard link to the work directory's) and
 * {@code /run} with its API and vsock sockets; {@code /dev/kvm} (and {@code /dev/net/tun} with taps); no
 * capabilities, {@code no_new_privs}, rlimits and cgroups. Its jail, cgroups and uid are released once it is gone.
 *
 * <p>The kernel must be an uncompressed ELF {@code vmlinux}. Each machine gets a writable reflink copy of the
 * shared root drive.
 */
public final class CloudHypervisorDriver extends KvmVmmDriver {

    /** The guest vsock port {@code bolero-init} listens on when it finds no virtio-serial port. */
    public static final int CONTROL_PORT = 1024;

    static final String NAME = "cloud-hypervisor";
    static final int HANDLE_VERSION = 1;

    private static final Logger LOG = LoggerFactory.getLogger(CloudHypervisorDriver.class);
    private static final Duration API_DEADLINE = Duration.ofSeconds(10);
    private static final String CONSOLE = "/console.log";

    /** @param binary the {@code cloud-hypervisor} executable; empty to look it up on {@code PATH} at each start */
    public CloudHypervisorDriver(Optional<Path> binary) {
        this(binary, Optional.empty());
    }

    /**
     * @param binary the {@code cloud-hypervisor} executable; empty to look it up on {@code PATH} at each start
     * @param jail how to confine each Cloud Hypervisor; empty to run it as the agent's user
     */
    public CloudHypervisorDriver(Optional<Path> binary, Optional<JailConfig> jail) {
        super(NAME, binary, jail.map(Jail::new));
    }

    /**
     * {@inheritDoc}
     *
     * <p>To resume, a fresh Cloud Hypervisor is given {@code PUT /vm.restore} from the snapshot directory, then
     * {@code PUT /vm.resume}.
     */
    @Override
    protected VmProcess spawn(String action, VmSpec spec, boolean resume) throws VmmException {
        Path vmm = executable(action);
        MachineFiles.requireVmlinux(NAME, spec.boot().kernel());
        Path work = spec.workDir().toAbsolutePath();
        Path log = work.resolve("vmm.log");
        Path pidFile = work.resolve("vmm.pid");
        Optional<Jail.Lease> lease = Optional.empty();
        ApiVmmLaunch.Spawned spawned = null;
        try {
            Files.createDirectories(work);
            Path apiSocket;
            Path vsockSocket;
            CloudHypervisorApi.VmmPaths paths;
            List<String> command;
            if (jail.isPresent()) {
                lease = Optional.of(ApiVmmLaunch.prepare(jail.get(), spec));
                Jail.Lease l = lease.get();
                apiSocket = l.host(ApiVmmLaunch.API_SOCKET);
                vsockSocket = l.host(ApiVmmLaunch.VSOCK_SOCKET);
                MachineFiles.requireSocketPath(action, vsockSocket);
                Path console = work.resolve("console.log");
                if (!Files.exists(console, LinkOption.NOFOLLOW_LINKS)) Files.createFile(console);
                Jail.give(l, console);
                Files.createLink(l.host(CONSOLE), console);
                paths = new CloudHypervisorApi.VmmPaths(ApiVmmLaunch.KERNEL, ApiVmmLaunch.INITRAMFS,
                        ApiVmmLaunch.ROOT_DRIVE, ApiVmmLaunch.VSOCK_SOCKET, CONSOLE, Jail.giveDrives(l, spec.drives()));
                Files.deleteIfExists(pidFile);
                command = ApiVmmLaunch.command(jail.get(), l, spec, vmm, pidFile, arguments(ApiVmmLaunch.API_SOCKET));
            } else {
                apiSocket = work.resolve("api.sock");
                vsockSocket = work.resolve("vsock.sock");
                MachineFiles.requireSocketPath(action, vsockSocket);
                Path drive = work.resolve(ROOT_DRIVE);
                if (resume) {
                    Files.deleteIfExists(vsockSocket); // the restored VM's vsock socket has the name it had
                } else {
                    MachineFiles.copyRootDrive(spec.rootDrive(), drive, spec.rootDriveSize());
                }
                paths = new CloudHypervisorApi.VmmPaths(spec.boot().kernel().toString(),
                        spec.boot().initramfs().toString(), drive.toString(), vsockSocket.toString(),
                        work.resolve("console.log").toString(),
                        spec.drives().stream().map(d -> d.file().toAbsolutePath().toString()).toList());
                command = new ArrayList<>(List.of(vmm.toString()));
                command.addAll(arguments(apiSocket.toString()));
            }
            VmmApi api = new VmmApi(NAME, apiSocket, CloudHypervisorApi.BASE_PATH);
            spawned = ApiVmmLaunch.spawn(action, command, log, api, API_DEADLINE,
                    lease.isPresent() ? Optional.of(pidFile) : Optional.empty());
            List<ApiRequest> requests = resume ? CloudHypervisorApi.load(Snapshot.dir(work).toString())
                    : CloudHypervisorApi.boot(spec, paths);
            for (ApiRequest request : requests) api.send(request);
            if (lease.isEmpty()) Snapshot.recordLaunch(work, snapshotLaunch(spec, vmm));
            VmHandle handle = spawned.handle(NAME, HANDLE_VERSION, apiSocket, vsockSocket, log, lease, Map.of());
            LOG.info("started machine={} pid={} uid={}", spec.machineId(), spawned.vmm().pid(),
                    lease.map(l -> Integer.toString(l.uid())).orElse("agent's"));
            return process(handle, spawned.vmm(), Optional.of(spawned.child()), api, lease);
        } catch (VmmException | IOException | RuntimeException e) {
            if (spawned != null) spawned.kill();
            String said = ApiVmmLaunch.said(NAME, log);
            lease.ifPresent(Jail::release);
            throw new VmmException(action + ": " + e.getMessage() + said, e);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>When Cloud Hypervisor is gone, its jail (if it had one) is released.
     */
    @Override
    public Optional<VmProcess> recover(VmHandle handle) throws VmmException {
        Optional<HostProcess> process = ApiVmmLaunch.adopt(handle, NAME, HANDLE_VERSION);
        if (process.isEmpty()) return Optional.empty();
        Optional<Jail.Lease> lease = Jail.Lease.fromHandle(handle.data());
        VmmApi api = new VmmApi(NAME, Path.of(handle.data().get(VmmProcess.API_SOCKET)), CloudHypervisorApi.BASE_PATH);
        return Optional.of(process(handle, process.get(), Optional.empty(), api, lease));
    }

    /** The VMM's arguments: its API socket, and its seccomp filters on (the default, made explicit). */
    private static List<String> arguments(String apiSocket) {
        return List.of("--api-socket", "path=" + apiSocket, "--seccomp", "true");
    }

    private static VmProcess process(VmHandle handle, HostProcess process, Optional<HostProcess> child, VmmApi api,
            Optional<Jail.Lease> lease) {
        List<AutoCloseable> onExit = lease.<List<AutoCloseable>>map(l -> List.of(() -> Jail.release(l)))
                .orElse(List.of());
        Path log = Path.of(handle.data().get(VmmProcess.LOG_FILE));
        return new VmmProcess(handle, process, child, log.getParent(), log,
                VmmProcess.api(api, Path.of(handle.data().get(VmmProcess.VSOCK_SOCKET)), CONTROL_PORT,
                        CloudHypervisorApi.politeStop(), CloudHypervisorApi.forcefulStop(), lease.isPresent()
                                ? Optional.empty() : Optional.of(dir -> CloudHypervisorApi.save(dir.toString()))),
                onExit);
    }
}
