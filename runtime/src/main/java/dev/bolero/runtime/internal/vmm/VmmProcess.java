package dev.bolero.runtime.internal.vmm;

import dev.bolero.runtime.Snapshot;
import dev.bolero.runtime.VmHandle;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmmException;
import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A VMM process: started by a driver (our child, or our child's child when jailed: exit status known) or
 * re-adopted from a handle (exit status unknown). Stopping asks the VMM through its {@link Control}, waits the grace
 * period, then asks firmly (if the VMM has a way) and finally kills. Resources given to the constructor (log
 * readers, socket directories, the jail) are closed once the process is gone.
 */
public final class VmmProcess implements VmProcess {

    /** Handle data keys every REST-API driver uses. */
    public static final String API_SOCKET = "api_socket";
    public static final String VSOCK_SOCKET = "vsock_socket";
    public static final String LOG_FILE = "log";
    public static final String START_TICKS = "start_ticks";

    private static final Logger LOG = LoggerFactory.getLogger(VmmProcess.class);
    private static final Duration FORCEFUL_WAIT = Duration.ofSeconds(2);
    /** How long a VMM that saved a VM's state gets to exit before it is killed. */
    private static final Duration SAVE_EXIT = Duration.ofSeconds(10);

    private final VmHandle handle;
    private final HostProcess process;
    private final CompletableFuture<VmExit> exit;
    private final Control control;
    private final Path log;
    private final Path workDir;
    private final Object stopLock = new Object();

    /** How one kind of VMM is reached and asked to stop. */
    public interface Control {
        /** Connects to the guest's control channel. */
        ByteChannel open() throws IOException;

        /** Asks the VMM to power the VM off; false when the request could not be made. */
        boolean askToStop(HostProcess process);

        /** Asks firmly once the grace period ran out, before the kill; false when there is no such way or it failed. */
        boolean forceStop(HostProcess process);

        /**
         * Pauses the VM, writes its state into the snapshot directory {@code dir} (see
         * {@link dev.bolero.runtime.Snapshot}) and makes the VMM exit.
         *
         * @throws VmmException when the state cannot be saved; the VM is left running when it can be
         */
        default void save(HostProcess process, Path dir) throws VmmException {
            throw new VmmException("suspend pid " + process.pid() + ": this VMM cannot save a VM's state");
        }

        /**
         * Pauses the VM, writes its state and a frozen copy of its root drive into the seed directory {@code seed}
         * (see {@link dev.bolero.runtime.Snapshot#sealSeed}) and continues the VM.
         *
         * @throws VmmException when the state cannot be saved; the VM is continued when it can be
         */
        default void checkpoint(HostProcess process, Path seed) throws VmmException {
            throw new VmmException("fork pid " + process.pid() + ": this VMM cannot save a running VM's state");
        }

        /**
         * Makes the running VM see drive {@code drive} (its index in {@link dev.bolero.runtime.VmSpec#drives()}) at
         * {@code bytes}, the size its file grew to.
         *
         * @throws VmmException when the VMM cannot or did not
         */
        default void resizeDrive(HostProcess process, int drive, long bytes) throws VmmException {
            throw new VmmException("resize drive " + drive + " of pid " + process.pid() + ": this VMM cannot resize "
                    + "a running VM's drive");
        }
    }

    /**
     * A VMM driven over a REST API, with the guest control channel on its hybrid vsock socket.
     *
     * @param controlPort the guest vsock port {@code bolero-init} listens on
     * @param politeStop requests asking the guest to power off, sent first
     * @param forcefulStop requests sent when the grace period ran out, before the kill
     */
    public static Control api(VmmApi api, Path vsockSocket, int controlPort, List<ApiRequest> politeStop,
            List<ApiRequest> forcefulStop) {
        return api(api, vsockSocket, controlPort, politeStop, forcefulStop, Optional.empty());
    }

    /**
     * {@link #api(VmmApi, Path, int, List, List)} for a VMM that can save a VM's state: {@code save} gives the
     * requests that pause the VM and write its state into a snapshot directory (sent in order); the VMM is then
     * ended (its state is on disk, nothing of the guest is lost).
     */
    public static Control api(VmmApi api, Path vsockSocket, int controlPort, List<ApiRequest> politeStop,
            List<ApiRequest> forcefulStop, Optional<java.util.function.Function<Path, List<ApiRequest>>> save) {
        List<ApiRequest> polite = List.copyOf(politeStop);
        List<ApiRequest> forceful = List.copyOf(forcefulStop);
        return new Control() {
            @Override
            public void save(HostProcess process, Path dir) throws VmmException {
                if (save.isEmpty()) Control.super.save(process, dir);
                for (ApiRequest request : save.get().apply(dir)) api.send(request);
                process.kill();
            }

            @Override
            public ByteChannel open() throws IOException {
                return HybridVsock.connect(vsockSocket, controlPort);
            }

            @Override
            public boolean askToStop(HostProcess process) {
                return send(api, process, polite);
            }

            @Override
            public boolean forceStop(HostProcess process) {
                return !forceful.isEmpty() && send(api, process, forceful);
            }
        };
    }

    /**
     * @param child the process this JVM spawned for the VMM (the VMM itself, or the jailer waiting for it), whose
     *     exit status is the VMM's; empty when re-adopted
     * @param workDir the machine's work directory, where a suspend keeps its {@link Snapshot}
     * @param log the VMM's own output, for {@link #diagnostics}
     * @param onExit closed once the VMM has exited
     */
    public VmmProcess(
            VmHandle handle,
            HostProcess process,
            Optional<HostProcess> child,
            Path workDir,
            Path log,
            Control control,
            List<AutoCloseable> onExit) {
        this.handle = Objects.requireNonNull(handle, "handle");
        this.workDir = Objects.requireNonNull(workDir, "workDir");
        this.process = Objects.requireNonNull(process, "process");
        this.control = Objects.requireNonNull(control, "control");
        this.log = Objects.requireNonNull(log, "log");
        List<AutoCloseable> resources = List.copyOf(onExit);
        this.exit = child.orElse(process).onExit().thenApply(VmExit::new)
                .whenComplete((result, failure) -> resources.forEach(VmmProcess::closeQuietly));
    }

    /**
     * Finds the process a REST-API driver's handle names.
     *
     * @return the process, or empty when it is gone or its pid now belongs to another process
     * @throws VmmException when the handle is another driver's or of an unknown version, or misses a key
     */
    public static Optional<HostProcess> adopt(VmHandle handle, String driver, int version) throws VmmException {
        return adopt(handle, driver, version, List.of(API_SOCKET, VSOCK_SOCKET, LOG_FILE), START_TICKS);
    }

    /**
     * Finds the process a handle names, identified by pid and the start time recorded under {@code startTicksKey}.
     *
     * @return the process, or empty when it is gone or its pid now belongs to another process
     * @throws VmmException when the handle is another driver's or of an unknown version, or misses a key
     */
    public static Optional<HostProcess> adopt(VmHandle handle, String driver, int version, List<String> keys,
            String startTicksKey) throws VmmException {
        if (!handle.driver().equals(driver)) {
            throw new VmmException(driver + ": recover pid " + handle.pid() + ": handle belongs to driver "
                    + handle.driver());
        }
        if (handle.version() != version) {
            throw new VmmException(driver + ": recover pid " + handle.pid() + ": unknown handle version "
                    + handle.version() + " (this driver writes " + version + ")");
        }
        for (String key : concat(keys, startTicksKey)) {
            if (!handle.data().containsKey(key)) {
                throw new VmmException(driver + ": recover pid " + handle.pid() + ": handle has no " + key);
            }
        }
        return HostProcesses.find(handle.pid(), Long.parseLong(handle.data().get(startTicksKey)));
    }

    @Override
    public VmHandle handle() {
        return handle;
    }

    @Override
    public ByteChannel openControl() throws IOException {
        return control.open();
    }

    @Override
    public CompletableFuture<VmExit> exit() {
        return exit;
    }

    @Override
    public void stop(Duration grace) {
        synchronized (stopLock) {
            if (control.askToStop(process) && awaitExit(grace)) return;
            if (control.forceStop(process) && awaitExit(FORCEFUL_WAIT)) return;
            kill();
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Holds the stop lock: a stop requested meanwhile waits, then finds the VMM gone.
     */
    @Override
    public void suspend(Map<String, String> dependencies) throws VmmException {
        synchronized (stopLock) {
            String what = "suspend pid " + handle.pid();
            if (!process.isAlive()) throw new VmmException(what + ": the VMM is gone");
            Path dir = Snapshot.begin(workDir);
            try {
                control.save(process, dir);
                if (!awaitExit(SAVE_EXIT)) {
                    LOG.warn("pid={} still running {} s after saving its state; killing it", handle.pid(),
                            SAVE_EXIT.toSeconds());
                    kill();
                }
            } catch (VmmException | RuntimeException e) {
                Snapshot.discard(workDir);
                throw e;
            }
            Snapshot.seal(workDir, dependencies);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Holds the stop lock: a stop requested meanwhile waits for the VM to run again.
     */
    @Override
    public void seed(Path seed) throws VmmException {
        synchronized (stopLock) {
            if (!process.isAlive()) throw new VmmException("fork pid " + handle.pid() + ": the VMM is gone");
            control.checkpoint(process, seed);
        }
    }

    @Override
    public void resizeDrive(int drive, long bytes) throws VmmException {
        if (!process.isAlive()) throw new VmmException("resize drive " + drive + " of pid " + handle.pid()
                + ": the VMM is gone");
        control.resizeDrive(process, drive, bytes);
    }

    @Override
    public void kill() {
        process.kill();
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

    /** Sends requests in order; false when one failed (logged: the caller escalates). True once the VMM is gone. */
    private static boolean send(VmmApi api, HostProcess process, List<ApiRequest> requests) {
        for (ApiRequest request : requests) {
            if (!process.isAlive()) return true;
            try {
                api.send(request);
            } catch (VmmException e) {
                LOG.warn("stop pid={} failed={}", process.pid(), e.getMessage());
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

    private static List<String> concat(List<String> keys, String key) {
        List<String> all = new java.util.ArrayList<>(keys);
        all.add(key);
        return all;
    }

    private static void closeQuietly(AutoCloseable resource) {
        try {
            resource.close();
        } catch (Exception e) {
            LOG.debug("close after VMM exit failed={}", e.toString());
        }
    }
}
