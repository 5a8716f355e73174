package dev.bolero.runtime.internal.vmm;

import dev.bolero.runtime.VmHandle;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmmException;
import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A VMM process driven over a REST API: started by a driver (our child, exit status known) or re-adopted from a
 * handle (not our child). Stopping sends the driver's polite requests, waits the grace period, then its forceful
 * requests (if any) and finally kills.
 */
public final class VmmProcess implements VmProcess {

    /** Handle data keys every REST-API driver uses. */
    public static final String API_SOCKET = "api_socket";
    public static final String VSOCK_SOCKET = "vsock_socket";
    public static final String LOG_FILE = "log";
    public static final String START_TICKS = "start_ticks";

    private static final Logger LOG = LoggerFactory.getLogger(VmmProcess.class);
    private static final Duration FORCEFUL_WAIT = Duration.ofSeconds(2);

    private final VmHandle handle;
    private final ProcessHandle process;
    private final CompletableFuture<VmExit> exit;
    private final VmmApi api;
    private final int controlPort;
    private final Path log;
    private final List<ApiRequest> politeStop;
    private final List<ApiRequest> forcefulStop;
    private final Object stopLock = new Object();

    /**
     * @param child the VMM when this JVM spawned it; empty when re-adopted
     * @param controlPort the guest vsock port {@code bolero-init} listens on
     * @param politeStop requests asking the guest to power off, sent first
     * @param forcefulStop requests sent when the grace period ran out, before the kill
     * @param onExit closed once the VMM has exited (log readers and the like)
     */
    public VmmProcess(
            VmHandle handle,
            ProcessHandle process,
            Optional<Process> child,
            VmmApi api,
            int controlPort,
            List<ApiRequest> politeStop,
            List<ApiRequest> forcefulStop,
            List<AutoCloseable> onExit) {
        this.handle = Objects.requireNonNull(handle, "handle");
        this.process = Objects.requireNonNull(process, "process");
        this.api = Objects.requireNonNull(api, "api");
        this.controlPort = controlPort;
        this.log = Path.of(handle.data().get(LOG_FILE));
        this.politeStop = List.copyOf(politeStop);
        this.forcefulStop = List.copyOf(forcefulStop);
        List<AutoCloseable> resources = List.copyOf(onExit);
        this.exit = child.map(p -> p.onExit().thenApply(done -> new VmExit(OptionalInt.of(done.exitValue()))))
                .orElseGet(() -> process.onExit().thenApply(done -> new VmExit(OptionalInt.empty())))
                .whenComplete((result, failure) -> resources.forEach(VmmProcess::closeQuietly));
    }

    /**
     * Finds the process a handle names.
     *
     * @return the process, or empty when it is gone or its pid now belongs to another process
     * @throws VmmException when the handle is another driver's or of an unknown version, or misses a key
     */
    public static Optional<ProcessHandle> adopt(VmHandle handle, String driver, int version) throws VmmException {
        if (!handle.driver().equals(driver)) {
            throw new VmmException(driver + ": recover pid " + handle.pid() + ": handle belongs to driver "
                    + handle.driver());
        }
        if (handle.version() != version) {
            throw new VmmException(driver + ": recover pid " + handle.pid() + ": unknown handle version "
                    + handle.version() + " (this driver writes " + version + ")");
        }
        for (String key : List.of(API_SOCKET, VSOCK_SOCKET, LOG_FILE, START_TICKS)) {
            if (!handle.data().containsKey(key)) {
                throw new VmmException(driver + ": recover pid " + handle.pid() + ": handle has no " + key);
            }
        }
        return HostProcesses.find(handle.pid(), Long.parseLong(handle.data().get(START_TICKS)));
    }

    @Override
    public VmHandle handle() {
        return handle;
    }

    @Override
    public ByteChannel openControl() throws IOException {
        return HybridVsock.connect(Path.of(handle.data().get(VSOCK_SOCKET)), controlPort);
    }

    @Override
    public CompletableFuture<VmExit> exit() {
        return exit;
    }

    @Override
    public void stop(Duration grace) {
        synchronized (stopLock) {
            if (send(politeStop) && awaitExit(grace)) return;
            if (!forcefulStop.isEmpty() && send(forcefulStop) && awaitExit(FORCEFUL_WAIT)) return;
            kill();
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
        return MachineFiles.tail(log, maxBytes);
    }

    /** Sends requests in order; false when the VMM is gone or one failed (logged: the caller escalates). */
    private boolean send(List<ApiRequest> requests) {
        for (ApiRequest request : requests) {
            if (!process.isAlive()) return true;
            try {
                api.send(request);
            } catch (VmmException e) {
                LOG.warn("stop pid={} failed={}", handle.pid(), e.getMessage());
                return false;
            }
        }
        return true;
    }

    private boolean awaitExit(Duration timeout) {
        try {
            exit.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            return !process.isAlive();
        }
    }

    private static void closeQuietly(AutoCloseable resource) {
        try {
            resource.close();
        } catch (Exception e) {
            LOG.debug("close after VMM exit failed={}", e.toString());
        }
    }
}
