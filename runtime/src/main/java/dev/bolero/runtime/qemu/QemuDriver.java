package dev.bolero.runtime.qemu;

import dev.bolero.runtime.DriverCapabilities;
import dev.bolero.runtime.JailConfig;
import dev.bolero.runtime.Snapshot;
import dev.bolero.runtime.VmHandle;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.VmmDriver;
import dev.bolero.runtime.VmmException;
import dev.bolero.runtime.internal.vmm.HostProcess;
import dev.bolero.runtime.internal.vmm.HostProcesses;
import dev.bolero.runtime.internal.vmm.Jail;
import dev.bolero.runtime.internal.vmm.MachineFiles;
import dev.bolero.runtime.internal.vmm.VmmProcess;
import dev.bolero.runtime.internal.vmm.VmmVersion;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import tools.jackson.databind.JsonNode;
import org.slf4j.LoggerFactory;

/**
 * Runs machines as QEMU {@code microvm} processes, under QEMU's seccomp sandbox ({@code -sandbox on} denying
 * obsolete calls, privilege changes, spawning and resource control).
 *
 * <p>Per machine, in {@link VmSpec#workDir()}: {@code console.log} (the guest's serial console), {@code vmm.log}
 * (QEMU's own output), {@code vmm.pid}, a copy-on-write overlay {@code root.qcow2} over the shared root drive (which
 * is never written), and the Unix sockets {@code ctl.sock} (the guest control channel) and {@code qmp.sock}.
 *
 * <p>Unjailed, QEMU runs as the agent's user in its own session, with those files in the work
 * directory. Jailed (a {@link JailConfig} given), QEMU runs through {@code bolero-jailer} in {@code workDir/jail}:
 * its own uid and gid, new mount, PID and IPC namespaces, a root holding only the overlay and the console log (hard
 * links: the overlay outlives the jail, for a resume), the machine's further drives (volumes: hard links, given to its
 * uid), the sockets (under {@code /run}), read-only binds of the kernel, initramfs, base drive, QEMU's binary,
 * firmware and system libraries, and the device nodes it needs ({@code /dev/kvm} under KVM, {@code /dev/net/tun}
 * with taps, which are made the uid's own); cgroups cap its memory (guest RAM plus an overhead), CPU (one CPU per
 * vCPU) and tasks. The jail, its cgroups and its uid are released once QEMU is gone. Either way, neither the
 * JVM's exit nor a terminal's ^C stops QEMU. Requires {@code qemu-system-x86_64} and {@code qemu-img} on the
 * {@code PATH}, and root to jail.
 *
 * <p>A booted guest's RAM is a memfd QEMU maps shared ({@link GuestRam.Shared}). A suspend or a fork pauses the VM and
 * copies that RAM into the snapshot or seed as a sparse file with the list of its extents beside a migration stream
 * that holds only the devices' state; a resume writes those extents back into the new QEMU's memfd before that state
 * loads (a few MiB read instead of a whole stream parsed, and the RAM stays a memfd, so the next suspend is as quick).
 * An unjailed clone maps its seed's file privately instead ({@link GuestRam.Private}), so clones of one seed share
 * the pages they only read; a jailed clone is filled like a resume, for QEMU 7.2 opens a privately mapped memory file
 * read-write, which would give each jailed clone's uid write access to its siblings' pages. A VM whose RAM is not a
 * memfd (such a clone) saves a stream that holds all of it, and its resume loads that into anonymous memory.
 *
 * <p>When a socket's host path is too long for a Unix socket (108 bytes), the sockets are reached through a short
 * per-machine directory (or, jailed, a symbolic link to the jail's {@code /run}) under {@code /run/bolero/},
 * recorded in the handle.
 */
public final class QemuDriver implements VmmDriver {
    /** Which accelerator to use: detect ({@code AUTO}), or force one. */
    public enum Accel {
        AUTO,
        KVM,
        TCG
    }

    static final String NAME = "qemu";
    static final int HANDLE_VERSION = 1;
    private static final String QEMU = "qemu-system-x86_64";
    private static final String QEMU_DATA = "/usr/share/qemu";
    private static final Logger log = LoggerFactory.getLogger(QemuDriver.class);
    private static final int MAX_SOCKET_PATH = 107;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    private static final Path SHORT_SOCKET_ROOT = Path.of("/run/bolero");
    /** Handle data keys. */
    private static final String WORK_DIR = "workDir";
    private static final String CTL_SOCKET = "ctlSocket";
    private static final String QMP_SOCKET = "qmpSocket";
    private static final String SOCKET_DIR = "socketDir";
    private static final String START_TICKS = "startTicks";
    private static final String OVERLAY = "root.qcow2";
    /** The snapshot's one state file: QEMU's migration stream. */
    private static final String STATE_FILE = "qemu-state";
    /** The migration capability that leaves shared RAM out of the stream; both ends of a migration must agree. */
    private static final String IGNORE_SHARED = "x-ignore-shared";
    /** A seed's frozen copy of its VM's overlay; in a machine planted from it, the hard link its overlay is over. */
    private static final String SEED_DRIVE = "seed.qcow2";
    private static final String JAILED_SEED_DRIVE = "/" + SEED_DRIVE;
    private static final String INCOMING_SOCKET = "in.sock";
    private static final String MIGRATION_SOCKET = "mig.sock";
    private static final Duration SAVE_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration LOAD_TIMEOUT = Duration.ofSeconds(60);

    private final Accelerator accelerator;
    private final Optional<Jail> jail;
    private final Overlays overlays = new Overlays();

    /** An unjailed driver that uses KVM when this host can run guests with it, TCG otherwise. */
    public QemuDriver() {
        this(Accel.AUTO, Optional.empty());
    }

    /**
     * A driver with the given accelerator choice.
     *
     * @param jail how to confine each QEMU; empty to run it as the agent's user without a jail
     */
    public QemuDriver(Accel accel, Optional<JailConfig> jail) {
        this.accelerator = Accelerator.choose(
                Objects.requireNonNull(accel, "accel"), Path.of("/dev/kvm"), Path.of("/proc/cpuinfo"));
        this.jail = jail.map(Jail::new);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public DriverCapabilities capabilities() {
        return new DriverCapabilities(accelerator.name(), accelerator.reason(), true, false, false);
    }

    @Override
    public Optional<String> unusableReason() {
        for (String tool : List.of(QEMU, "qemu-img")) {
            if (HostProcesses.onPath(tool).isEmpty()) return Optional.of(tool + " not found on PATH");
        }
        if (jail.isPresent() && !JailConfig.runningAsRoot()) return Optional.of("jailing needs root");
        return Optional.empty();
    }

    @Override
    public void releaseLeftovers() {
        jail.ifPresent(Jail::sweep);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Returns once QEMU runs its main loop (it answers on QMP) and listens on the control socket.
     */
    @Override
    public VmProcess start(VmSpec spec) throws VmmException {
        return spawn("start machine " + spec.machineId(), spec, false);
    }

    /**
     * {@inheritDoc}
     *
     * <p>QEMU's seccomp sandbox forbids it to spawn a helper, so its state travels over a Unix socket
     * ({@code mig.sock}, in the jail's {@code /run} when jailed) that the driver copies to the state file.
     */
    @Override
    public Optional<String> snapshotUnusable(VmSpec spec, Map<String, String> dependencies) {
        Path work = spec.workDir().toAbsolutePath();
        if (!Snapshot.exists(work)) return Optional.of("no snapshot");
        try {
            Path qemu = HostProcesses.onPath(QEMU).orElseThrow(() -> new VmmException(QEMU + " not found"));
            return Snapshot.unusableReason(work, launch(spec, qemu, work), dependencies);
        } catch (VmmException e) {
            return Optional.of(e.getMessage());
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>QEMU gets the start's command line plus {@code -incoming} on a Unix socket, over which the driver sends the
     * saved state; once loaded (the VM is paused, as it was saved) the driver continues it.
     */
    @Override
    public VmProcess resume(VmSpec spec) throws VmmException {
        VmProcess process = spawn("resume machine " + spec.machineId(), spec, true);
        Snapshot.discard(spec.workDir().toAbsolutePath());
        return process;
    }

    private VmProcess spawn(String what, VmSpec spec, boolean resume) throws VmmException {
        Path work = spec.workDir().toAbsolutePath();
        Path pidFile = work.resolve("vmm.pid");
        Path vmmLog = work.resolve("vmm.log");
        Path qemu = HostProcesses.onPath(QEMU).orElseThrow(() -> new VmmException(what + ": " + QEMU + " not found"));
        Launch launch = null;
        HostProcess process = null;
        try {
            Files.createDirectories(work);
            Files.deleteIfExists(pidFile);
            if (!resume) Files.deleteIfExists(work.resolve(SEED_DRIVE)); // a boot's overlay is over the image's drive
            launch = jail.isPresent() ? jailed(spec, work, qemu, pidFile, jail.get(), resume)
                    : unjailed(spec, work, qemu, pidFile, resume);
            long spawnedAt = System.nanoTime();
            process = HostProcesses.spawn(what, launch.command(), vmmLog);
            awaitStarted(what, process, launch, pidFile, vmmLog);
            long readyAt = System.nanoTime();
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            if (resume) load(what, process, launch, pid, Snapshot.dir(work), vmmLog);
            long loadedAt = System.nanoTime();
            Snapshot.recordLaunch(work, launch(spec, qemu, work));
            long ticks = HostProcesses.startTicks(pid)
                    .orElseThrow(() -> new VmmException(what + ": qemu (pid " + pid + ") vanished after starting"));
            Map<String, String> data = new HashMap<>(Map.of(
                    WORK_DIR, work.toString(),
                    CTL_SOCKET, launch.ctl().toString(),
                    QMP_SOCKET, launch.qmp().toString(),
                    SOCKET_DIR, launch.socketDir().toString(),
                    START_TICKS, Long.toString(ticks)));
            launch.lease().ifPresent(l -> data.putAll(l.handleData()));
            var handle = new VmHandle(NAME, HANDLE_VERSION, pid, HostProcesses.startInstant(ticks), data);
            log.info("machine={} qemu {} pid={} accel={} uid={} ready_ms={} load_ms={}", spec.machineId(),
                    resume ? "resumed" : "started", pid, accelerator.name(),
                    launch.lease().map(l -> Integer.toString(l.uid())).orElse("agent's"),
                    (readyAt - spawnedAt) / 1_000_000, (loadedAt - readyAt) / 1_000_000);
            // jailed, the jailer waits for QEMU and exits with its status; unjailed, QEMU is the child itself
            HostProcess vmm = pid == process.pid() ? process : HostProcesses.find(pid, ticks)
                    .orElseThrow(() -> new VmmException(what + ": qemu (pid " + pid + ") vanished"));
            boolean exitStatusKnown = launch.lease().isPresent() || vmm == process;
            return process(handle, vmm, exitStatusKnown ? Optional.of(process) : Optional.empty());
        } catch (VmmException | IOException | RuntimeException e) {
            if (process != null) {
                process.kill();
                process.onExit().join();
                Jail.killRecorded(pidFile);
            }
            if (launch != null) release(launch.socketDir(), work, launch.lease());
            if (e instanceof VmmException v) throw v;
            throw new VmmException(what + ": " + e.getMessage(), e);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>When the VMM is gone, whatever it left (its jail, cgroups and uid, a short socket directory) is released.
     */
    @Override
    public Optional<VmProcess> recover(VmHandle handle) throws VmmException {
        Optional<HostProcess> vmm = VmmProcess.adopt(handle, NAME, HANDLE_VERSION,
                List.of(WORK_DIR, CTL_SOCKET, QMP_SOCKET, SOCKET_DIR), START_TICKS);
        if (vmm.isPresent()) return Optional.of(process(handle, vmm.get(), Optional.empty()));
        release(Path.of(handle.data().get(SOCKET_DIR)), Path.of(handle.data().get(WORK_DIR)),
                Jail.Lease.fromHandle(handle.data()));
        return Optional.empty();
    }

    /** The machine's console log, made {@code 0600} before QEMU opens it (it keeps an existing file's mode). */
    private static Path privateConsole(Path work) throws IOException {
        Path console = work.resolve("console.log");
        if (!Files.exists(console, LinkOption.NOFOLLOW_LINKS)) {
            Files.createFile(console, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.setPosixFilePermissions(console, PosixFilePermissions.fromString("rw-------"));
        return console;
    }

    /** How one QEMU is spawned and where the agent reaches its sockets. */
    private record Launch(List<String> command, GuestRam ram, Path ctl, Path qmp, Path socketDir,
            Optional<Jail.Lease> lease) {}

    /**
     * The RAM of a VM launched in {@code work} (see the class's Javadoc): a memfd for a boot and for a resume whose
     * snapshot keeps the RAM beside the stream, except an unjailed clone's, which maps its seed's file privately;
     * anonymous memory for a resume from a stream that holds all the RAM.
     */
    private GuestRam ram(Path work, boolean resume) {
        Path memory = Snapshot.dir(work).resolve(RamImage.FILE);
        if (!resume) return new GuestRam.Shared();
        if (!Files.exists(memory)) return new GuestRam.Anonymous();
        return jail.isEmpty() && Snapshot.planted(work) ? new GuestRam.Private(memory) : new GuestRam.Shared();
    }

    /** @param resume whether QEMU is to load a saved state: it keeps the machine's overlay and awaits the state */
    private Launch unjailed(VmSpec spec, Path work, Path qemu, Path pidFile, boolean resume)
            throws VmmException, IOException {
        Path socketDir = socketDir(work);
        privateConsole(work); // QEMU would create it 0644; the guest's console is the tenant's
        Path overlay = work.resolve(OVERLAY);
        Path ctl = socketDir.resolve("ctl.sock");
        Path qmp = socketDir.resolve("qmp.sock");
        Path incoming = socketDir.resolve(INCOMING_SOCKET);
        Files.deleteIfExists(ctl);
        Files.deleteIfExists(qmp);
        Files.deleteIfExists(incoming);
        if (!resume) {
            Files.deleteIfExists(overlay);
            overlays.create("start machine " + spec.machineId(), overlay, spec.rootDrive().toAbsolutePath().toString(),
                    true, spec.rootDriveSize());
        }
        var files = new QemuCommand.Files(spec.boot().kernel().toAbsolutePath().toString(),
                spec.boot().initramfs().toAbsolutePath().toString(), overlay.toString(),
                work.resolve("console.log").toString(), ctl.toString(), qmp.toString(), Optional.of(pidFile.toString()),
                spec.drives().stream().map(d -> d.file().toAbsolutePath().toString()).toList());
        GuestRam ram = ram(work, resume);
        List<String> command = new ArrayList<>(QemuCommand.build(qemu.toString(), spec, accelerator, files, ram));
        if (resume) command.addAll(List.of("-incoming", "unix:" + incoming));
        return new Launch(command, ram, ctl, qmp, socketDir, Optional.empty());
    }

    /** What a VMM this driver starts from {@code spec} in {@code work} depends on (see {@link Snapshot#launch}). */
    private Map<String, String> launch(VmSpec spec, Path qemu, Path work) throws VmmException {
        Map<String, String> launch = new HashMap<>(Snapshot.launch(spec, qemu, VmmVersion.of(qemu), work.resolve(OVERLAY)));
        launch.put("jailed", Boolean.toString(jail.isPresent())); // the overlay names its base differently
        return launch;
    }

    /**
     * Sends the saved state in the snapshot directory {@code snapshot} to QEMU {@code pid}, started with
     * {@code -incoming}, waits until it has loaded it and continues the VM. When the snapshot has a
     * {@link RamImage}, the stream holds only the devices' state and QEMU is told so first; the RAM is written into
     * its memfd before ({@link RamImage#restore}) unless QEMU maps the file itself.
     */
    private static void load(String what, HostProcess process, Launch launch, long pid, Path snapshot, Path vmmLog)
            throws VmmException {
        Path incoming = launch.socketDir().resolve(INCOMING_SOCKET);
        try (Qmp qmp = Qmp.connect(launch.qmp())) {
            if (Files.exists(snapshot.resolve(RamImage.FILE))) {
                ignoreSharedRam(qmp, true);
                if (launch.ram() instanceof GuestRam.Shared) {
                    RamImage.restore(snapshot, sharedRam(pid).orElseThrow(() -> new VmmException(what
                            + ": qemu (pid " + pid + ") has no memfd to write the saved RAM into")));
                }
            }
            try (SocketChannel to = SocketChannel.open(UnixDomainSocketAddress.of(incoming));
                    FileChannel from = FileChannel.open(snapshot.resolve(STATE_FILE), StandardOpenOption.READ)) {
                long size = from.size();
                for (long sent = 0; sent < size; ) sent += from.transferTo(sent, size - sent, to);
            } catch (IOException e) {
                throw new VmmException(what + ": send the saved state to qemu: " + e.getMessage(), e);
            }
            long deadline = System.nanoTime() + LOAD_TIMEOUT.toNanos();
            String status;
            while ((status = qmp.execute("query-status", Map.of()).path("status").asString()).equals("inmigrate")) {
                if (System.nanoTime() > deadline) {
                    throw new VmmException(what + ": qemu did not load the saved state within "
                            + LOAD_TIMEOUT.toSeconds() + " s");
                }
                Thread.sleep(5);
            }
            if (!status.equals("paused") && !status.equals("running")) {
                throw new VmmException(what + ": qemu is " + status + " after loading the saved state");
            }
            if (status.equals("paused")) qmp.execute("cont", Map.of());
            long contAt = System.nanoTime();
            boolean closed = awaitControlPortClosed(qmp);
            log.debug("{}: the guest {} its control port {} ms after cont", what, closed ? "closed" : "did not close",
                    (System.nanoTime() - contAt) / 1_000_000);
        } catch (VmmException e) {
            throw new VmmException(e.getMessage() + qemuSaid(process, vmmLog), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmmException(what + ": interrupted while qemu loaded the saved state", e);
        }
    }

    /** How long a resumed guest is given to close its control port (see {@link #awaitControlPortClosed}). */
    private static final Duration PORT_CLOSE_WAIT = Duration.ofSeconds(1);

    /**
     * Waits until the resumed guest has closed its control port, or {@link #PORT_CLOSE_WAIT}; returns whether it
     * did. The guest had the port open when its state was saved, and no host is connected to this QEMU yet: once the
     * VM runs, {@code bolero-init} reads EOF and closes the port (reopening it on its next tick). Bytes a host sent
     * before that close would be discarded with the port's buffer (a clone's IDENTITY, a CLOCK); a host that
     * connects after it finds its bytes kept in the socket until the guest reopens. QEMU shows the guest's side as
     * the chardev's {@code frontend-open}: set from the restored state as the VM starts, cleared by the close.
     */
    private static boolean awaitControlPortClosed(Qmp qmp) throws VmmException, InterruptedException {
        long deadline = System.nanoTime() + PORT_CLOSE_WAIT.toNanos();
        boolean opened = false;
        while (System.nanoTime() < deadline) {
            boolean open = false;
            for (JsonNode chardev : qmp.execute("query-chardev", Map.of())) {
                if (chardev.path("label").asString("").equals(QemuCommand.CONTROL_CHARDEV)) {
                    open = chardev.path("frontend-open").asBoolean(false);
                }
            }
            if (opened && !open) return true;
            opened |= open;
            Thread.sleep(2);
        }
        return false;
    }

    private static String qemuSaid(HostProcess process, Path vmmLog) {
        if (process.isAlive()) return "";
        return "; qemu exited: " + MachineFiles.tail(vmmLog, 2000).strip();
    }

    /**
     * Pauses the VM, has QEMU migrate its state to a Unix socket the driver listens on ({@code mig.sock}), copies it
     * into the snapshot's state file and, once QEMU reports the migration completed, asks it to quit. When QEMU
     * {@code pid}'s RAM is a {@link GuestRam.Shared memfd}, the stream leaves it out and the paused RAM is copied into
     * the snapshot's {@link RamImage} instead; otherwise the stream holds all of it. On failure the VM is continued.
     */
    private static void save(Path qmpSocket, Path socketDir, Optional<Jail.Lease> lease, long pid, Path dir)
            throws VmmException {
        Path state = Snapshot.stateFile(dir, STATE_FILE);
        Optional<Path> sharedRam = sharedRam(pid);
        try (Qmp qmp = Qmp.connect(qmpSocket)) {
            qmp.execute("stop", Map.of());
            try {
                ignoreSharedRam(qmp, sharedRam.isPresent());
                receive(qmp, socketDir.resolve(MIGRATION_SOCKET), lease, state);
                if (sharedRam.isPresent()) {
                    RamImage.save(sharedRam.get(), dir);
                    RamImage.flush(dir);
                }
            } catch (VmmException | RuntimeException e) {
                try {
                    qmp.execute("migrate_cancel", Map.of());
                    qmp.execute("cont", Map.of());
                } catch (VmmException again) {
                    e.addSuppressed(again);
                }
                throw e;
            }
            try {
                qmp.execute("quit", Map.of());
            } catch (VmmException e) {
                // QEMU may close the monitor before it answers
            }
        }
    }

    /**
     * Pauses the VM, migrates its state into the seed's state file as {@link #save} does, copies its overlay (flushed
     * and inactive once the migration completed) as the seed's frozen drive, and continues the VM (QEMU takes its
     * drives back on {@code cont}).
     *
     * <p>When QEMU {@code pid}'s RAM is {@link GuestRam.Shared shared}, the stream leaves it out: the paused RAM is
     * copied instead into the seed's {@link RamImage#FILE} (sparse: pages the guest never touched stay holes), which
     * every unjailed clone maps privately, sharing the pages it only reads, and a jailed one is filled from.
     */
    private static void checkpoint(Path qmpSocket, Path socketDir, Optional<Jail.Lease> lease, long pid, Path work,
            Path seed) throws VmmException {
        Snapshot.beginSeed(seed);
        Path state = Snapshot.stateFile(seed, STATE_FILE);
        Optional<Path> sharedRam = sharedRam(pid);
        try (Qmp qmp = Qmp.connect(qmpSocket)) {
            qmp.execute("stop", Map.of());
            try {
                ignoreSharedRam(qmp, sharedRam.isPresent());
                receive(qmp, socketDir.resolve(MIGRATION_SOCKET), lease, state);
                if (sharedRam.isPresent()) RamImage.save(sharedRam.get(), seed);
                Files.copy(work.resolve(OVERLAY), seed.resolve(SEED_DRIVE));
                // a jailed clone's QEMU reads it under its own uid; it is reached only through private directories
                Files.setPosixFilePermissions(seed.resolve(SEED_DRIVE), PosixFilePermissions.fromString("r--r--r--"));
            } catch (VmmException | IOException | RuntimeException e) {
                try {
                    qmp.execute("migrate_cancel", Map.of());
                } catch (VmmException again) {
                    e.addSuppressed(again);
                }
                if (e instanceof VmmException v) throw v;
                if (e instanceof RuntimeException r) throw r;
                throw new VmmException("fork: copy the RAM or root drive of " + work + ": " + e.getMessage(), e);
            } finally {
                qmp.execute("cont", Map.of());
            }
        }
        if (sharedRam.isPresent()) RamImage.flush(seed); // after cont: the source need not wait for it
        Snapshot.sealSeed(work, seed,
                sharedRam.isPresent() ? List.of(STATE_FILE, RamImage.FILE, RamImage.EXTENTS) : List.of(STATE_FILE));
    }

    /** Sets the migration capability {@value #IGNORE_SHARED} of the QEMU behind {@code qmp}. */
    private static void ignoreSharedRam(Qmp qmp, boolean ignore) throws VmmException {
        qmp.execute("migrate-set-capabilities",
                Map.of("capabilities", List.of(Map.of("capability", IGNORE_SHARED, "state", ignore))));
    }

    /**
     * The file descriptor ({@code /proc/<pid>/fd/N}) through which QEMU {@code pid} holds its {@link GuestRam.Shared}
     * RAM; empty when its RAM is not such a memfd (anonymous memory, or a clone's private mapping).
     */
    private static Optional<Path> sharedRam(long pid) {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    if (Files.readSymbolicLink(fd).toString().startsWith(GuestRam.Shared.MEMFD)) return Optional.of(fd);
                } catch (IOException e) {
                    // closed meanwhile: not the RAM, which QEMU holds as long as it runs
                }
            }
        } catch (IOException e) {
            log.warn("qemu pid={}: list its files failed={}; its fork migrates its RAM", pid, e.getMessage());
        }
        return Optional.empty();
    }

    /**
     * {@inheritDoc}
     *
     * <p>The machine's overlay {@code root.qcow2} is made over {@code seed.qcow2}, a hard link of the seed's frozen
     * drive in the machine's directory: it lives as long as a clone uses it, and goes with the last one's files.
     * Jailed, the overlay names it {@code /seed.qcow2}, where the jail binds it.
     */
    @Override
    public void plant(Path seed, Path workDir, Map<String, String> dependencies) throws VmmException {
        Path work = workDir.toAbsolutePath();
        String what = "plant a snapshot in " + work;
        Path drive = work.resolve(SEED_DRIVE);
        Path overlay = work.resolve(OVERLAY);
        try {
            Files.createDirectories(work);
            Files.deleteIfExists(overlay);
            Files.deleteIfExists(drive);
            Files.createLink(drive, seed.resolve(SEED_DRIVE));
            overlays.createOver(what, overlay, drive, jail.isPresent() ? JAILED_SEED_DRIVE : drive.toString());
            Snapshot.plant(seed, work, overlay, dependencies);
        } catch (IOException | VmmException e) {
            try {
                Files.deleteIfExists(overlay);
                Files.deleteIfExists(drive);
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            if (e instanceof VmmException v) throw v;
            throw new VmmException(what + ": " + e.getMessage(), e);
        }
    }

    /** @param lease the VMM's jail: it reaches the socket as {@code /run/mig.sock}, as the jail's uid */
    private static void receive(Qmp qmp, Path migration, Optional<Jail.Lease> lease, Path state)
            throws VmmException {
        try {
            Files.deleteIfExists(migration);
            try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                server.bind(UnixDomainSocketAddress.of(migration));
                if (lease.isPresent()) Jail.give(lease.get(), migration);
                server.configureBlocking(false);
                String uri = lease.isPresent() ? "/run/" + MIGRATION_SOCKET : migration.toString();
                qmp.execute("migrate", Map.of("uri", "unix:" + uri));
                long deadline = System.nanoTime() + SAVE_TIMEOUT.toNanos();
                SocketChannel accepted;
                while ((accepted = server.accept()) == null) {
                    migrationStatus(qmp, deadline);
                    Thread.sleep(2);
                }
                try (SocketChannel from = accepted; FileChannel to = FileChannel.open(state, StandardOpenOption.WRITE)) {
                    from.configureBlocking(true);
                    long at = 0;
                    long n;
                    while ((n = to.transferFrom(from, at, 1 << 24)) > 0) at += n;
                    to.force(true);
                }
                while (!migrationStatus(qmp, deadline).equals("completed")) Thread.sleep(2);
            } finally {
                Files.deleteIfExists(migration);
            }
        } catch (IOException e) {
            throw new VmmException("save the VM's state to " + state + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmmException("save the VM's state to " + state + ": interrupted", e);
        }
    }

    /** The migration's status; @throws VmmException when it failed or the deadline passed */
    private static String migrationStatus(Qmp qmp, long deadline) throws VmmException {
        JsonNode info = qmp.execute("query-migrate", Map.of());
        String status = info.path("status").asString("none");
        if (status.equals("failed") || status.equals("cancelled")) {
            throw new VmmException("save the VM's state: migration " + status + ": "
                    + info.path("error-desc").asString(""));
        }
        if (System.nanoTime() > deadline) {
            throw new VmmException("save the VM's state: not done within " + SAVE_TIMEOUT.toSeconds() + " s ("
                    + status + ")");
        }
        return status;
    }

    /**
     * @param resume whether QEMU is to load a saved state: the machine's overlay is kept (it lives in the work
     *     directory, hard-linked into each jail, so that it outlives the jail of the VMM that suspended)
     */
    private Launch jailed(VmSpec spec, Path work, Path qemu, Path pidFile, Jail jail, boolean resume)
            throws VmmException, IOException {
        Jail.Lease lease = jail.prepare(spec.machineId(), work.resolve("jail"), spec.cpus(), spec.memoryMb());
        try {
            // the overlay names its base as the VMM sees it; -u: that path does not exist outside the jail
            Path overlay = work.resolve(OVERLAY);
            if (!resume) {
                Files.deleteIfExists(overlay);
                overlays.create("start machine " + spec.machineId(), overlay, "/base.raw", false, spec.rootDriveSize());
            }
            Files.createLink(lease.host("/root.qcow2"), overlay);
            Jail.give(lease, overlay);
            Path console = privateConsole(work);
            Jail.give(lease, console);
            Files.createLink(lease.host("/console.log"), console);

            List<Jail.Bind> binds = new ArrayList<>(Jail.executable(lease, qemu));
            binds.add(new Jail.Bind(Path.of(QEMU_DATA), QEMU_DATA));
            binds.add(new Jail.Bind(spec.boot().kernel().toRealPath(), "/vmlinux"));
            binds.add(new Jail.Bind(spec.boot().initramfs().toRealPath(), "/initramfs"));
            binds.add(new Jail.Bind(spec.rootDrive().toRealPath(), "/base.raw"));
            if (resume && Files.exists(work.resolve(SEED_DRIVE))) { // a clone's overlay is over its seed's drive
                binds.add(new Jail.Bind(work.resolve(SEED_DRIVE), JAILED_SEED_DRIVE));
            }
            List<Path> devices = new ArrayList<>();
            if (accelerator.name().equals("kvm")) devices.add(Path.of("/dev/kvm"));
            if (!spec.taps().isEmpty()) devices.add(Path.of("/dev/net/tun"));
            var files = new QemuCommand.Files("/vmlinux", "/initramfs", "/root.qcow2", "/console.log",
                    "/run/ctl.sock", "/run/qmp.sock", Optional.empty(), Jail.giveDrives(lease, spec.drives()));
            GuestRam ram = ram(work, resume);
            List<String> qemuCommand = new ArrayList<>(QemuCommand.build(qemu.toString(), spec, accelerator, files,
                    ram));
            if (resume) qemuCommand.addAll(List.of("-incoming", "unix:/run/" + INCOMING_SOCKET));
            List<String> command = jail.command(lease, pidFile, binds, devices,
                    spec.taps().stream().map(VmSpec.Tap::name).toList(), qemuCommand);
            Path socketDir = socketLink(lease.host("/run"));
            return new Launch(command, ram, socketDir.resolve("ctl.sock"), socketDir.resolve("qmp.sock"), socketDir,
                    Optional.of(lease));
        } catch (VmmException | IOException | RuntimeException e) {
            Jail.release(lease);
            throw e;
        }
    }

    private static VmProcess process(VmHandle handle, HostProcess vmm, Optional<HostProcess> child) throws VmmException {
        Path socketDir = Path.of(handle.data().get(SOCKET_DIR));
        Path work = Path.of(handle.data().get(WORK_DIR));
        Optional<Jail.Lease> lease = Jail.Lease.fromHandle(handle.data());
        Path ctl = Path.of(handle.data().get(CTL_SOCKET));
        VmmProcess.Control control = new VmmProcess.Control() {
            @Override
            public ByteChannel open() throws IOException {
                try {
                    return SocketChannel.open(UnixDomainSocketAddress.of(ctl));
                } catch (IOException e) {
                    throw new IOException("connect to the control socket " + ctl + " of qemu pid " + handle.pid()
                            + ": " + e.getMessage(), e);
                }
            }

            @Override
            public boolean askToStop(HostProcess process) {
                process.terminate(); // SIGTERM: QEMU stops the guest and exits cleanly
                return true;
            }

            @Override
            public boolean forceStop(HostProcess process) {
                return false;
            }

            @Override
            public void save(HostProcess process, Path dir) throws VmmException {
                QemuDriver.save(Path.of(handle.data().get(QMP_SOCKET)), socketDir, lease, handle.pid(), dir);
            }

            @Override
            public void checkpoint(HostProcess process, Path seed) throws VmmException {
                QemuDriver.checkpoint(Path.of(handle.data().get(QMP_SOCKET)), socketDir, lease, handle.pid(), work,
                        seed);
            }

            @Override
            public void resizeDrive(HostProcess process, int drive, long bytes) throws VmmException {
                try (Qmp qmp = Qmp.connect(Path.of(handle.data().get(QMP_SOCKET)))) {
                    qmp.execute("block_resize", Map.of("device", QemuCommand.driveId(drive), "size", bytes));
                }
            }
        };
        return new VmmProcess(handle, vmm, child, work, work.resolve("vmm.log"), control,
                List.of(() -> release(socketDir, work, lease)));
    }

    /** Releases what a gone QEMU leaves: a short socket directory or link, and its jail. */
    private static void release(Path socketDir, Path work, Optional<Jail.Lease> lease) {
        if (!socketDir.startsWith(work)) {
            try {
                if (Files.isSymbolicLink(socketDir)) {
                    Files.deleteIfExists(socketDir);
                } else {
                    Files.deleteIfExists(socketDir.resolve("ctl.sock"));
                    Files.deleteIfExists(socketDir.resolve("qmp.sock"));
                    Files.deleteIfExists(socketDir.resolve(INCOMING_SOCKET));
                    Files.deleteIfExists(socketDir.resolve(MIGRATION_SOCKET));
                    Files.deleteIfExists(socketDir);
                }
            } catch (IOException e) {
                log.debug("remove socket dir={} failed={}", socketDir, e.getMessage());
            }
        }
        lease.ifPresent(Jail::release);
    }

    /**
     * Waits until QEMU answers a QMP command. Commands are dispatched by QEMU's main loop, which runs only after the
     * machine was created and the kernel loaded, so a QEMU that fails at start-up (bad kernel, busy tap, …) is caught
     * here. (The QMP greeting alone proves nothing: it comes from the monitor's own thread.)
     */
    private static void awaitStarted(String what, HostProcess process, Launch launch, Path pidFile, Path vmmLog)
            throws VmmException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (Files.exists(launch.ctl()) && Files.exists(pidFile) && answers(launch.qmp(), deadline)) return;
            if (!process.isAlive()) {
                throw new VmmException(what + ": qemu exited with status " + process.onExit().join().orElseThrow() + ": "
                        + MachineFiles.tail(vmmLog, 2000).strip());
            }
            if (System.nanoTime() > deadline) {
                throw new VmmException(what + ": qemu did not become ready within " + START_TIMEOUT.toSeconds()
                        + " s: " + MachineFiles.tail(vmmLog, 2000).strip());
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VmmException(what + ": interrupted while waiting for qemu");
            }
        }
    }

    private static final byte[] QMP_PROBE =
            "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"query-status\"}\n".getBytes(StandardCharsets.US_ASCII);

    /** Whether QMP answers {@code query-status} before the deadline; false when unreachable or closed. */
    private static boolean answers(Path qmp, long deadline) {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(qmp))) {
            ch.write(ByteBuffer.wrap(QMP_PROBE)); // queued until QMP reads it after its greeting
            ch.configureBlocking(false);
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (System.nanoTime() < deadline && buf.hasRemaining()) {
                if (ch.read(buf) < 0) return false;
                String text = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
                if (text.lines().filter(l -> l.contains("\"return\"")).count() >= 2 && text.endsWith("\n")) return true;
                Thread.sleep(10);
            }
            return false;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The work directory when socket paths fit there, else a short per-machine directory under /run/bolero. */
    static Path socketDir(Path work) throws IOException {
        Path abs = work.toAbsolutePath();
        if (fits(abs)) return abs;
        Path dir = SHORT_SOCKET_ROOT.resolve(shortHash(abs.toString()));
        Files.createDirectories(dir);
        return dir;
    }

    /** The jail's {@code /run} when socket paths fit there, else a short symbolic link to it under /run/bolero. */
    static Path socketLink(Path jailRun) throws IOException {
        if (fits(jailRun)) return jailRun;
        Files.createDirectories(SHORT_SOCKET_ROOT);
        Path link = SHORT_SOCKET_ROOT.resolve(shortHash(jailRun.toString()));
        Files.deleteIfExists(link);
        return Files.createSymbolicLink(link, jailRun);
    }

    private static boolean fits(Path dir) {
        return dir.resolve("ctl.sock").toString().getBytes(StandardCharsets.UTF_8).length <= MAX_SOCKET_PATH;
    }

    private static String shortHash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
