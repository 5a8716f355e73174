package dev.bolero.runtime.firecracker;

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
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs machines in Firecracker: spawns {@code firecracker --api-sock …} in its own session, configures it over its
 * REST API on the Unix socket and starts the instance. The guest's control channel is Firecracker's hybrid vsock
 * ({@code CONNECT 1024}); Firecracker's logger and metrics named pipes are drained into the machine's
 * {@code vmm.log} and SLF4J. Firecracker's own seccomp filters stay on (the driver never passes
 * {@code --no-seccomp}).
 *
 * <p>Confinement is chosen when the driver is made, one of:
 * <ul>
 *   <li>none ({@link #FirecrackerDriver(Optional)}): Firecracker runs as the agent's user, files in the work
 *       directory;
 *   <li>Bolero's jail ({@link #FirecrackerDriver(Optional, Optional)} with a {@link JailConfig}; what the agent uses
 *       whenever jailing is on): {@code bolero-jailer}, exactly as for QEMU and Cloud Hypervisor — a uid/gid of its
 *       own from the configured range (claimed host-wide), new mount, PID and IPC namespaces, a chroot at
 *       {@code workDir/jail} holding only the executable, the kernel and initramfs (read-only), the private root
 *       drive, and {@code /run} with the API and vsock sockets and the logger and metrics pipes; {@code /dev/kvm}
 *       (and {@code /dev/net/tun} with taps, which are made the uid's own); no capabilities,
 *       {@code no_new_privs}, rlimits, and cgroups capping memory, CPU and tasks. Its jail, cgroups and uid are
 *       released once Firecracker is gone. One jailer for every driver means one uid range, one set of cgroups and
 *       one reclamation of what a crashed agent left ({@link #releaseLeftovers}).
 * </ul>
 *
 * <p>The kernel must be an uncompressed ELF {@code vmlinux} with virtio-mmio built in. Each machine gets a
 * writable reflink copy of the shared root drive.
 */
public final class FirecrackerDriver extends KvmVmmDriver {

    /** The guest vsock port {@code bolero-init} listens on when it finds no virtio-serial port. */
    public static final int CONTROL_PORT = 1024;

    static final String NAME = "firecracker";
    static final int HANDLE_VERSION = 1;
    static final String LOGGER_FIFO = "logger_fifo";
    static final String METRICS_FIFO = "metrics_fifo";

    private static final Logger LOG = LoggerFactory.getLogger(FirecrackerDriver.class);
    private static final Duration API_DEADLINE = Duration.ofSeconds(10);

    /**
     * Runs Firecracker directly, as the agent's user.
     *
     * @param binary the {@code firecracker} executable; empty to look it up on {@code PATH} at each start
     */
    public FirecrackerDriver(Optional<Path> binary) {
        this(binary, Optional.empty());
    }

    /**
     * Runs Firecracker in Bolero's jail when {@code jail} is present, directly otherwise.
     *
     * @param binary the {@code firecracker} executable; empty to look it up on {@code PATH} at each start
     */
    public FirecrackerDriver(Optional<Path> binary, Optional<JailConfig> jail) {
        super(NAME, binary, jail.map(Jail::new));
    }

    /** Where an unjailed Firecracker writes, and later loads, the snapshot in {@code snapshotDir}. */
    private static FirecrackerApi.SnapshotPaths snapshotPaths(Path snapshotDir) {
        return new FirecrackerApi.SnapshotPaths(snapshotDir.resolve("vmstate").toString(),
                snapshotDir.resolve("memory").toString());
    }

    /**
     * {@inheritDoc}
     *
     * <p>To resume, a fresh Firecracker gets its logger and metrics, then {@code PUT /snapshot/load} with the
     * snapshot's {@code vmstate} and {@code memory} files, resuming the VM.
     */
    @Override
    protected VmProcess spawn(String action, VmSpec spec, boolean resume) throws VmmException {
        Path firecracker = executable(action);
        MachineFiles.requireVmlinux(NAME, spec.boot().kernel());
        List<LineFifoReader> readers = new ArrayList<>();
        Layout layout = null;
        ApiVmmLaunch.Spawned spawned = null;
        Path log = spec.workDir().resolve("vmm.log");
        try {
            Files.createDirectories(spec.workDir());
            layout = layout(spec, action);
            layout.prepare(spec, resume);
            readers.add(LineFifoReader.start(layout.host("logger.fifo"), logLines(spec.machineId(), log)));
            readers.add(LineFifoReader.start(layout.host("metrics.fifo"), metricLines(spec.machineId())));
            VmmApi api = new VmmApi(NAME, layout.host("api.sock"), "");
            spawned = ApiVmmLaunch.spawn(action, layout.command(firecracker), log, api, API_DEADLINE,
                    layout.pidFile());
            List<ApiRequest> requests = resume
                    ? FirecrackerApi.load(layout.vmmPaths(), snapshotPaths(Snapshot.dir(spec.workDir())))
                    : FirecrackerApi.boot(spec, layout.vmmPaths());
            for (ApiRequest request : requests) api.send(request);
            if (layout.lease().isEmpty()) Snapshot.recordLaunch(spec.workDir(), snapshotLaunch(spec, firecracker));
            VmHandle handle = spawned.handle(NAME, HANDLE_VERSION, layout.host("api.sock"), layout.host("vsock.sock"),
                    log, layout.lease(), Map.of(
                            LOGGER_FIFO, layout.host("logger.fifo").toString(),
                            METRICS_FIFO, layout.host("metrics.fifo").toString()));
            LOG.info("started machine={} pid={} uid={}", spec.machineId(), spawned.vmm().pid(),
                    layout.lease().map(l -> Integer.toString(l.uid())).orElse("agent's"));
            return process(handle, spawned.vmm(), Optional.of(spawned.child()), log, api, readers,
                    layout.lease());
        } catch (VmmException | IOException | RuntimeException e) {
            if (spawned != null) spawned.kill();
            String said = ApiVmmLaunch.said(NAME, log);
            readers.forEach(LineFifoReader::closeQuietly);
            if (layout != null) layout.lease().ifPresent(Jail::release);
            throw new VmmException(action + ": " + e.getMessage() + said, e);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Firecracker's drive API takes no serial: its virtio-blk device answers with an id of its own (see
     * {@link FirecrackerApi#blockDeviceId}), made from the file it opens. The jail's drive is a hard link to {@code
     * drive.file()} (same device and inode) and an unjailed Firecracker opens the file itself, so the id is known before
     * Firecracker starts.
     */
    @Override
    public String guestSerial(VmSpec.Drive drive) throws VmmException {
        try {
            return FirecrackerApi.blockDeviceId(drive.file());
        } catch (IOException e) {
            throw new VmmException("the id Firecracker gives drive " + drive.serial() + " (" + drive.file() + "): "
                    + e.getMessage(), e);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>When Firecracker is gone, its jail (if Bolero made one) is released.
     */
    @Override
    public Optional<VmProcess> recover(VmHandle handle) throws VmmException {
        Optional<HostProcess> process = ApiVmmLaunch.adopt(handle, NAME, HANDLE_VERSION);
        if (process.isEmpty()) return Optional.empty();
        Optional<Jail.Lease> lease = Jail.Lease.fromHandle(handle.data());
        String machine = "pid " + handle.pid();
        Path log = Path.of(handle.data().get(VmmProcess.LOG_FILE));
        List<LineFifoReader> readers = new ArrayList<>();
        try {
            readers.add(LineFifoReader.start(Path.of(handle.data().get(LOGGER_FIFO)), logLines(machine, log)));
            readers.add(LineFifoReader.start(Path.of(handle.data().get(METRICS_FIFO)), metricLines(machine)));
        } catch (IOException | NullPointerException e) {
            readers.forEach(LineFifoReader::closeQuietly);
            throw new VmmException("firecracker: recover " + machine + ": reopen log pipes: " + e.getMessage(), e);
        }
        VmmApi api = new VmmApi(NAME, Path.of(handle.data().get(VmmProcess.API_SOCKET)), "");
        return Optional.of(process(handle, process.get(), Optional.empty(), log, api, readers, lease));
    }

    private static VmmProcess process(VmHandle handle, HostProcess vmm, Optional<HostProcess> child, Path log,
            VmmApi api, List<LineFifoReader> readers, Optional<Jail.Lease> lease) {
        List<AutoCloseable> onExit = new ArrayList<>(readers);
        lease.ifPresent(l -> onExit.add(() -> Jail.release(l)));
        return new VmmProcess(handle, vmm, child, log.getParent(), log,
                VmmProcess.api(api, Path.of(handle.data().get(VmmProcess.VSOCK_SOCKET)), CONTROL_PORT,
                        FirecrackerApi.politeStop(), List.of(), lease.isPresent() ? Optional.empty()
                                : Optional.of(dir -> FirecrackerApi.save(snapshotPaths(dir)))),
                onExit);
    }

    private Layout layout(VmSpec spec, String action) throws VmmException {
        Layout layout = jail.isPresent()
                ? new BoleroJailed(spec, jail.get(), ApiVmmLaunch.prepare(jail.get(), spec))
                : new Direct(spec);
        try {
            MachineFiles.requireSocketPath(action, layout.host("vsock.sock"));
        } catch (VmmException e) {
            layout.lease().ifPresent(Jail::release);
            throw e;
        }
        return layout;
    }

    /** Firecracker's logger lines go to the machine's log (for diagnostics) and to SLF4J. */
    private static java.util.function.Consumer<String> logLines(String machine, Path log) {
        return line -> {
            LOG.warn("machine={} firecracker={}", machine, line);
            try {
                Files.writeString(log, "[firecracker] " + line + "\n", StandardOpenOption.APPEND,
                        StandardOpenOption.CREATE);
            } catch (IOException e) {
                LOG.debug("machine={} append to log={} failed={}", machine, log, e.getMessage());
            }
        };
    }

    private static java.util.function.Consumer<String> metricLines(String machine) {
        return line -> LOG.debug("machine={} firecracker_metrics={}", machine, line);
    }

    /** Where the machine's files live on the host, and how Firecracker names them. */
    private sealed interface Layout permits Direct, BoleroJailed {
        /** A file in the directory Firecracker sees as its world, as the host names it. */
        Path host(String name);

        /** The same file as Firecracker opens it. */
        String vmm(String name);

        List<String> command(Path firecracker) throws VmmException, IOException;

        /**
         * Creates the files Firecracker is given: the root drive copy (kept as it is for a {@code resume}) and the
         * named pipes.
         */
        void prepare(VmSpec spec, boolean resume) throws VmmException, IOException;

        /** Bolero's jail, when Firecracker runs in one. */
        default Optional<Jail.Lease> lease() {
            return Optional.empty();
        }

        /** Where a jailer records Firecracker's pid when the spawned process is not Firecracker itself. */
        default Optional<Path> pidFile() {
            return Optional.empty();
        }

        /** The spec's further drives as Firecracker opens them, in order. */
        List<String> drives();

        default FirecrackerApi.VmmPaths vmmPaths() {
            return new FirecrackerApi.VmmPaths(vmm("vmlinux"), vmm("initramfs"), vmm("rootfs.raw"),
                    vmm("vsock.sock"), vmm("logger.fifo"), vmm("metrics.fifo"), drives());
        }

        static void prepareCommon(Path root, VmSpec spec, boolean resume) throws VmmException, IOException {
            Files.createDirectories(root);
            if (!resume) MachineFiles.copyRootDrive(spec.rootDrive(), root.resolve(ROOT_DRIVE), spec.rootDriveSize());
            if (resume) { // the resumed VM's files have the names it had: the earlier VMM's are removed
                for (String stale : List.of("logger.fifo", "metrics.fifo", "vsock.sock")) {
                    Files.deleteIfExists(root.resolve(stale));
                }
            }
            MachineFiles.mkfifo(root.resolve("logger.fifo"));
            MachineFiles.mkfifo(root.resolve("metrics.fifo"));
        }
    }

    /** Firecracker runs as the agent's user, with the files in the work directory and the shared kernel. */
    private record Direct(VmSpec spec) implements Layout {
        @Override
        public Path host(String name) {
            return spec.workDir().resolve(name);
        }

        @Override
        public String vmm(String name) {
            return switch (name) {
                case "vmlinux" -> spec.boot().kernel().toString();
                case "initramfs" -> spec.boot().initramfs().toString();
                default -> host(name).toString();
            };
        }

        @Override
        public List<String> command(Path firecracker) {
            return List.of(firecracker.toString(), "--api-sock", host("api.sock").toString());
        }

        @Override
        public List<String> drives() {
            return spec.drives().stream().map(d -> d.file().toAbsolutePath().toString()).toList();
        }

        @Override
        public void prepare(VmSpec spec, boolean resume) throws VmmException, IOException {
            Layout.prepareCommon(spec.workDir(), spec, resume);
        }
    }

    /**
     * Firecracker runs through {@code bolero-jailer} in the lease's jail (see {@link ApiVmmLaunch}); its logger
     * and metrics pipes are in the jail's {@code /run} with its sockets.
     */
    private record BoleroJailed(VmSpec spec, Jail jail, Jail.Lease jailLease) implements Layout {
        @Override
        public Path host(String name) {
            return jailLease.host(vmm(name));
        }

        @Override
        public String vmm(String name) {
            return switch (name) {
                case "vmlinux" -> ApiVmmLaunch.KERNEL;
                case "initramfs" -> ApiVmmLaunch.INITRAMFS;
                case "rootfs.raw" -> ApiVmmLaunch.ROOT_DRIVE;
                case "api.sock" -> ApiVmmLaunch.API_SOCKET;
                case "vsock.sock" -> ApiVmmLaunch.VSOCK_SOCKET;
                default -> "/run/" + name;
            };
        }

        @Override
        public List<String> command(Path firecracker) throws VmmException, IOException {
            return ApiVmmLaunch.command(jail, jailLease, spec, firecracker, pidFile().orElseThrow(),
                    List.of("--api-sock", vmm("api.sock")));
        }

        @Override
        public void prepare(VmSpec spec, boolean resume) throws VmmException, IOException {
            Files.deleteIfExists(pidFile().orElseThrow());
            for (String fifo : List.of("logger.fifo", "metrics.fifo")) {
                MachineFiles.mkfifo(host(fifo));
                Jail.give(jailLease, host(fifo));
            }
            Jail.giveDrives(jailLease, spec.drives());
        }

        @Override
        public List<String> drives() {
            return spec.drives().stream().map(Jail::inJail).toList();
        }

        @Override
        public Optional<Jail.Lease> lease() {
            return Optional.of(jailLease);
        }

        @Override
        public Optional<Path> pidFile() {
            return Optional.of(spec.workDir().toAbsolutePath().resolve("vmm.pid"));
        }
    }
}
