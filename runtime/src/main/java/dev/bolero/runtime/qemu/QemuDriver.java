package dev.bolero.runtime.qemu;

import dev.bolero.runtime.DriverCapabilities;
import dev.bolero.runtime.VmHandle;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.VmmDriver;
import dev.bolero.runtime.VmmException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs machines as QEMU {@code microvm} processes.
 *
 * <p>Per machine, in {@link VmSpec#workDir()}: {@code root.qcow2} (a copy-on-write overlay over the shared root
 * drive, which is never written), {@code console.log} (the guest's serial console), {@code vmm.log} (QEMU's own
 * output), {@code vmm.pid}, and the Unix sockets {@code ctl.sock} (the guest control channel) and {@code qmp.sock}.
 * When the work directory's path is too long for a Unix socket (108 bytes), the sockets go to
 * {@code /run/bolero/<hash>/} instead, recorded in the handle.
 *
 * <p>QEMU runs in its own session ({@code setsid}): neither the JVM's exit nor a terminal's ^C stops it. Requires
 * {@code qemu-system-x86_64}, {@code qemu-img} and {@code setsid} on the {@code PATH}.
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
    private static final Logger log = LoggerFactory.getLogger(QemuDriver.class);
    private static final int MAX_SOCKET_PATH = 107;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    private static final Path SHORT_SOCKET_ROOT = Path.of("/run/bolero");

    private final Accelerator accelerator;

    /** A driver that uses KVM when this host can run guests with it, TCG otherwise. */
    public QemuDriver() {
        this(Accel.AUTO);
    }

    /** A driver with the given accelerator choice. */
    public QemuDriver(Accel accel) {
        this.accelerator = Accelerator.choose(
                Objects.requireNonNull(accel, "accel"), Path.of("/dev/kvm"), Path.of("/proc/cpuinfo"));
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public DriverCapabilities capabilities() {
        return new DriverCapabilities(accelerator.name(), accelerator.reason(), false, false, false);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Returns once QEMU runs its main loop (it answers on QMP) and listens on the control socket.
     */
    @Override
    public VmProcess start(VmSpec spec) throws VmmException {
        String what = "start machine " + spec.machineId();
        Path work = spec.workDir();
        Path overlay = work.resolve("root.qcow2");
        Path pidFile = work.resolve("vmm.pid");
        Path log = work.resolve("vmm.log");
        Path socketDir;
        try {
            Files.createDirectories(work);
            socketDir = socketDir(work);
            Files.deleteIfExists(socketDir.resolve("ctl.sock"));
            Files.deleteIfExists(socketDir.resolve("qmp.sock"));
            Files.deleteIfExists(pidFile);
            Files.deleteIfExists(overlay);
            run(what + ": create overlay", List.of("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                    spec.rootDrive().toAbsolutePath().toString(), overlay.toString()));
        } catch (IOException e) {
            throw new VmmException(what + ": " + e.getMessage(), e);
        }
        Path ctl = socketDir.resolve("ctl.sock");
        Path qmp = socketDir.resolve("qmp.sock");
        List<String> command = QemuCommand.build("qemu-system-x86_64", spec, accelerator, overlay, ctl, qmp, pidFile);
        Process process;
        try {
            process = new ProcessBuilder(prepend("setsid", command))
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException e) {
            throw new VmmException(what + ": spawn qemu-system-x86_64: " + e.getMessage(), e);
        }
        try {
            awaitStarted(what, process, ctl, qmp, pidFile, log);
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            long ticks = ProcessIdentity.startTicks(pid)
                    .orElseThrow(() -> new VmmException(what + ": qemu (pid " + pid + ") vanished after starting"));
            var handle = new VmHandle(NAME, HANDLE_VERSION, pid, ProcessIdentity.toInstant(ticks), Map.of(
                    "workDir", work.toString(),
                    "ctlSocket", ctl.toString(),
                    "qmpSocket", qmp.toString(),
                    "socketDir", socketDir.toString(),
                    "startTicks", Long.toString(ticks)));
            QemuDriver.log.info("machine={} qemu started pid={} accel={}", spec.machineId(), pid, accelerator.name());
            return new QemuProcess(handle, pid == process.pid() ? Optional.of(process) : Optional.empty(),
                    ProcessHandle.of(pid).orElseThrow(() -> new VmmException(what + ": qemu (pid " + pid + ") vanished")));
        } catch (VmmException | IOException | RuntimeException e) {
            process.destroyForcibly();
            process.onExit().join();
            if (e instanceof VmmException v) throw v;
            throw new VmmException(what + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<VmProcess> recover(VmHandle handle) throws VmmException {
        if (!handle.driver().equals(NAME)) {
            throw new VmmException("recover pid " + handle.pid() + ": handle belongs to driver " + handle.driver());
        }
        if (handle.version() != HANDLE_VERSION) {
            throw new VmmException("recover pid " + handle.pid() + ": unknown qemu handle version " + handle.version());
        }
        String recorded = handle.data().get("startTicks");
        OptionalLong now = ProcessIdentity.startTicks(handle.pid());
        if (recorded == null || now.isEmpty() || now.getAsLong() != Long.parseLong(recorded)) return Optional.empty();
        Optional<ProcessHandle> ph = ProcessHandle.of(handle.pid());
        if (ph.isEmpty()) return Optional.empty();
        return Optional.of(new QemuProcess(handle, Optional.empty(), ph.get()));
    }

    /**
     * Waits until QEMU answers a QMP command. Commands are dispatched by QEMU's main loop, which runs only after the
     * machine was created and the kernel loaded, so a QEMU that fails at start-up (bad kernel, busy tap, …) is caught
     * here. (The QMP greeting alone proves nothing: it comes from the monitor's own thread.)
     */
    private static void awaitStarted(String what, Process process, Path ctl, Path qmp, Path pidFile, Path log)
            throws VmmException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (Files.exists(ctl) && Files.exists(pidFile) && answers(qmp, deadline)) return;
            if (!process.isAlive()) {
                throw new VmmException(what + ": qemu exited with status " + process.exitValue() + ": "
                        + QemuProcess.tail(log, 2000).strip());
            }
            if (System.nanoTime() > deadline) {
                throw new VmmException(what + ": qemu did not become ready within " + START_TIMEOUT.toSeconds()
                        + " s: " + QemuProcess.tail(log, 2000).strip());
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
        if (abs.resolve("ctl.sock").toString().getBytes(StandardCharsets.UTF_8).length <= MAX_SOCKET_PATH) return abs;
        Path dir = SHORT_SOCKET_ROOT.resolve(shortHash(abs.toString()));
        Files.createDirectories(dir);
        return dir;
    }

    private static String shortHash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> prepend(String first, List<String> rest) {
        var all = new java.util.ArrayList<String>(rest.size() + 1);
        all.add(first);
        all.addAll(rest);
        return all;
    }

    private static void run(String what, List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            int status = p.waitFor();
            if (status != 0) throw new IOException(what + ": " + command.getFirst() + " exited with " + status + ": " + out);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(what + ": interrupted");
        }
    }
}
