package dev.bolero.runtime.firecracker;

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
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs machines in Firecracker: spawns {@code firecracker --api-sock …} (through its jailer when configured) in its
 * own session, configures it over its REST API on the Unix socket and starts the instance. The guest's control
 * channel is Firecracker's hybrid vsock ({@code CONNECT 1024}); Firecracker's logger and metrics named pipes are
 * drained into the machine's {@code vmm.log} and SLF4J.
 *
 * <p>The kernel must be an uncompressed ELF {@code vmlinux} with virtio-mmio built in. Each machine gets a
 * writable reflink copy of the shared root drive in its work directory.
 */
public final class FirecrackerDriver implements VmmDriver {

    /** The guest vsock port {@code bolero-init} listens on when it finds no virtio-serial port. */
    public static final int CONTROL_PORT = 1024;

    static final String NAME = "firecracker";
    static final int HANDLE_VERSION = 1;
    static final String LOGGER_FIFO = "logger_fifo";
    static final String METRICS_FIFO = "metrics_fifo";

    private static final Logger LOG = LoggerFactory.getLogger(FirecrackerDriver.class);
    private static final Duration API_DEADLINE = Duration.ofSeconds(10);
    private static final Pattern JAILER_ID = Pattern.compile("[A-Za-z0-9-]{1,64}");

    private final Optional<Path> binary;
    private final Optional<Jailer> jailer;

    /**
     * Runs Firecracker directly, as the agent's user.
     *
     * @param binary the {@code firecracker} executable; empty to look it up on {@code PATH} at each start
     */
    public FirecrackerDriver(Optional<Path> binary) {
        this(binary, Optional.empty());
    }

    /**
     * @param binary the {@code firecracker} executable; empty to look it up on {@code PATH} at each start
     * @param jailer when present, Firecracker is started through this jailer in a chroot under the machine's
     *     work directory, as an unprivileged user
     */
    public FirecrackerDriver(Optional<Path> binary, Optional<Jailer> jailer) {
        this.binary = Objects.requireNonNull(binary, "binary");
        this.jailer = Objects.requireNonNull(jailer, "jailer");
    }

    /**
     * Firecracker's jailer: chroot, unprivileged uid/gid, then exec of Firecracker. The chroot base is
     * {@code <workDir>/jail}; machine ids must be valid jailer ids (letters, digits, '-', at most 64).
     *
     * @param binary the {@code jailer} executable
     * @param uid the user Firecracker runs as
     * @param gid the group Firecracker runs as
     */
    public record Jailer(Path binary, int uid, int gid) {
        public Jailer {
            Objects.requireNonNull(binary, "binary");
            if (uid < 0 || gid < 0) throw new IllegalArgumentException("uid and gid must be >= 0");
        }
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
        String action = "start machine " + spec.machineId() + " in firecracker";
        Path firecracker = binary.or(() -> HostProcesses.onPath(NAME))
                .orElseThrow(() -> new VmmException(action + ": firecracker not found on PATH"));
        MachineFiles.requireVmlinux(NAME, spec.boot().kernel());
        Layout layout = layout(spec, firecracker, action);
        List<LineFifoReader> readers = new ArrayList<>();
        HostProcess process = null;
        try {
            layout.prepare(spec);
            Path log = spec.workDir().resolve("vmm.log");
            readers.add(LineFifoReader.start(layout.host("logger.fifo"), logLines(spec.machineId(), log)));
            readers.add(LineFifoReader.start(layout.host("metrics.fifo"), metricLines(spec.machineId())));
            process = HostProcesses.spawn(action, layout.command(firecracker), log);
            OptionalLong ticks = HostProcesses.startTicks(process.pid());
            if (ticks.isEmpty()) throw new VmmException("firecracker exited at once");
            VmmApi api = new VmmApi(NAME, layout.host("api.sock"), "");
            api.awaitListening(API_DEADLINE, process::isAlive);
            for (ApiRequest request : FirecrackerApi.boot(spec, layout.vmmPaths())) api.send(request);
            VmHandle handle = new VmHandle(NAME, HANDLE_VERSION, process.pid(),
                    HostProcesses.startInstant(ticks.getAsLong()), Map.of(
                            VmmProcess.API_SOCKET, layout.host("api.sock").toString(),
                            VmmProcess.VSOCK_SOCKET, layout.host("vsock.sock").toString(),
                            VmmProcess.LOG_FILE, log.toString(),
                            VmmProcess.START_TICKS, Long.toString(ticks.getAsLong()),
                            LOGGER_FIFO, layout.host("logger.fifo").toString(),
                            METRICS_FIFO, layout.host("metrics.fifo").toString()));
            LOG.info("started machine={} pid={} jailed={}", spec.machineId(), process.pid(), jailer.isPresent());
            return new VmmProcess(handle, process, Optional.of(process), log, control(api, handle),
                    List.copyOf(readers));
        } catch (VmmException | IOException | RuntimeException e) {
            String said = "";
            if (process != null) {
                process.kill();
                process.onExit().join();
                said = "; firecracker said: " + MachineFiles.tail(spec.workDir().resolve("vmm.log"), 2000).strip();
            }
            readers.forEach(LineFifoReader::closeQuietly);
            throw new VmmException(action + ": " + e.getMessage() + said, e);
        }
    }

    @Override
    public Optional<VmProcess> recover(VmHandle handle) throws VmmException {
        Optional<HostProcess> process = VmmProcess.adopt(handle, NAME, HANDLE_VERSION);
        if (process.isEmpty()) return Optional.empty();
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
        return Optional.of(new VmmProcess(handle, process.get(), Optional.empty(), log, control(api, handle),
                List.copyOf(readers)));
    }

    private static VmmProcess.Control control(VmmApi api, VmHandle handle) {
        return VmmProcess.api(api, Path.of(handle.data().get(VmmProcess.VSOCK_SOCKET)), CONTROL_PORT,
                FirecrackerApi.politeStop(), List.of());
    }

    private Layout layout(VmSpec spec, Path firecracker, String action) throws VmmException {
        Layout layout = jailer.map(j -> (Layout) new Jailed(spec, j, firecracker)).orElseGet(() -> new Direct(spec));
        MachineFiles.requireSocketPath(action, layout.host("vsock.sock"));
        if (jailer.isPresent() && !JAILER_ID.matcher(spec.machineId()).matches()) {
            throw new VmmException(action + ": machine id is not a valid jailer id (letters, digits, '-', 1-64)");
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
    private sealed interface Layout permits Direct, Jailed {
        /** A file in the directory Firecracker sees as its world, as the host names it. */
        Path host(String name);

        /** The same file as Firecracker opens it. */
        String vmm(String name);

        List<String> command(Path firecracker);

        /** Creates the directory, the root drive copy and the named pipes. */
        void prepare(VmSpec spec) throws VmmException, IOException;

        default FirecrackerApi.VmmPaths vmmPaths() {
            return new FirecrackerApi.VmmPaths(vmm("vmlinux"), vmm("initramfs"), vmm("rootfs.raw"),
                    vmm("vsock.sock"), vmm("logger.fifo"), vmm("metrics.fifo"));
        }

        static void prepareCommon(Path root, VmSpec spec) throws VmmException, IOException {
            Files.createDirectories(root);
            MachineFiles.copyRootDrive(spec.rootDrive(), root.resolve("rootfs.raw"), spec.rootDriveSize());
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
        public void prepare(VmSpec spec) throws VmmException, IOException {
            Layout.prepareCommon(spec.workDir(), spec);
        }
    }

    /**
     * Firecracker runs through the jailer, chrooted to {@code <workDir>/jail/firecracker/<id>/root}: the kernel and
     * initramfs are linked (or copied) in, and everything it opens is owned by its uid/gid.
     */
    private record Jailed(VmSpec spec, Jailer jailer, Path firecracker) implements Layout {
        private Path root() {
            return spec.workDir().resolve("jail").resolve(firecracker.getFileName().toString())
                    .resolve(spec.machineId()).resolve("root");
        }

        @Override
        public Path host(String name) {
            return root().resolve(name);
        }

        @Override
        public String vmm(String name) {
            return "/" + name;
        }

        @Override
        public List<String> command(Path firecracker) {
            return List.of(jailer.binary().toString(), "--id", spec.machineId(),
                    "--exec-file", firecracker.toString(),
                    "--uid", Integer.toString(jailer.uid()), "--gid", Integer.toString(jailer.gid()),
                    "--chroot-base-dir", spec.workDir().resolve("jail").toString(),
                    "--", "--api-sock", vmm("api.sock"));
        }

        @Override
        public void prepare(VmSpec spec) throws VmmException, IOException {
            Layout.prepareCommon(root(), spec);
            linkOrCopy(spec.boot().kernel(), host("vmlinux"));
            linkOrCopy(spec.boot().initramfs(), host("initramfs"));
            for (String owned : List.of("", "rootfs.raw", "logger.fifo", "metrics.fifo")) {
                Files.setAttribute(host(owned), "unix:uid", jailer.uid());
                Files.setAttribute(host(owned), "unix:gid", jailer.gid());
            }
        }

        private static void linkOrCopy(Path source, Path target) throws IOException {
            try {
                Files.createLink(target, source);
            } catch (IOException | UnsupportedOperationException crossDevice) {
                Files.copy(source, target);
            }
        }
    }
}
