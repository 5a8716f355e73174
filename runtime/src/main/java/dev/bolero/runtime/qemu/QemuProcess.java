package dev.bolero.runtime.qemu;

import dev.bolero.runtime.VmHandle;
import dev.bolero.runtime.VmProcess;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A QEMU process, started by this JVM ({@code child} present) or re-adopted from a handle. */
final class QemuProcess implements VmProcess {
    private final VmHandle handle;
    private final ProcessHandle process;
    private final CompletableFuture<VmExit> exit;

    QemuProcess(VmHandle handle, Optional<Process> child, ProcessHandle process) {
        this.handle = handle;
        this.process = process;
        CompletableFuture<VmExit> ended = child
                .map(c -> c.onExit().thenApply(p -> new VmExit(OptionalInt.of(p.exitValue()))))
                .orElseGet(() -> process.onExit().thenApply(p -> new VmExit(OptionalInt.empty())));
        this.exit = ended.whenComplete((e, t) -> removeSocketDir());
    }

    @Override
    public VmHandle handle() {
        return handle;
    }

    @Override
    public ByteChannel openControl() throws IOException {
        Path ctl = Path.of(handle.data().get("ctlSocket"));
        try {
            return SocketChannel.open(UnixDomainSocketAddress.of(ctl));
        } catch (IOException e) {
            throw new IOException("connect to the control socket " + ctl + " of qemu pid " + handle.pid() + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public CompletableFuture<VmExit> exit() {
        return exit.copy();
    }

    @Override
    public void stop(Duration grace) {
        process.destroy(); // SIGTERM: QEMU stops the guest and exits cleanly
        try {
            exit.get(grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            kill();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void kill() {
        process.destroyForcibly();
        exit.join();
    }

    @Override
    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public String diagnostics(int maxBytes) {
        return tail(Path.of(handle.data().get("workDir")).resolve("vmm.log"), maxBytes);
    }

    /** The last {@code maxBytes} of a file, from a line start when possible; empty when it cannot be read. */
    static String tail(Path file, int maxBytes) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long start = Math.max(0, f.length() - maxBytes);
            byte[] b = new byte[(int) (f.length() - start)];
            f.seek(start);
            f.readFully(b);
            String s = new String(b, StandardCharsets.UTF_8);
            int nl = s.indexOf('\n');
            return start > 0 && nl >= 0 && nl < s.length() - 1 ? s.substring(nl + 1) : s;
        } catch (IOException e) {
            return "";
        }
    }

    /** Sockets in a directory of their own (a long work directory) go with the process. */
    private void removeSocketDir() {
        Path dir = Path.of(handle.data().get("socketDir"));
        if (dir.equals(Path.of(handle.data().get("workDir")).toAbsolutePath())) return;
        try {
            Files.deleteIfExists(dir.resolve("ctl.sock"));
            Files.deleteIfExists(dir.resolve("qmp.sock"));
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // best effort: a leftover empty directory under /run is harmless
        }
    }
}
