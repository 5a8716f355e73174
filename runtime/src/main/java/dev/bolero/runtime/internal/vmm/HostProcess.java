package dev.bolero.runtime.internal.vmm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A host process held by a pidfd, so signals reach the process it names even after its pid is reused. Its exit is
 * observed by the shared {@link ExitWatcher} (one thread for all processes, no thread per process); a child of this
 * JVM is reaped there (never left a zombie) and its exit status is known, another process's is not. The pidfd is
 * closed once the exit was observed; from then on signals are no-ops. Thread-safe.
 */
public final class HostProcess {
    private static final Logger LOG = LoggerFactory.getLogger(HostProcess.class);

    private final long pid;
    private final boolean child;
    private final CompletableFuture<OptionalInt> exit = new CompletableFuture<>();
    /** The pidfd; -1 once closed. Guarded by {@code this}: never signal through a closed (maybe reused) number. */
    private int pidfd;

    private HostProcess(long pid, int pidfd, boolean child) {
        this.pid = pid;
        this.pidfd = pidfd;
        this.child = child;
    }

    /**
     * Watches a child this JVM spawned and has not reaped: its pid cannot be reused before the watcher reaps it.
     *
     * @throws IOException when no pidfd can be opened for it
     */
    static HostProcess ofChild(long pid) throws IOException {
        int fd = Libc.pidfdOpen(pid).orElseThrow(() -> new IOException("pidfd_open " + pid + ": no such process"));
        return ExitWatcher.shared().watch(new HostProcess(pid, fd, true));
    }

    /**
     * The process {@code pid}, if it exists and {@code identity} holds for it once a pidfd pins it (so a check of
     * its start time cannot race with the pid's reuse).
     */
    static Optional<HostProcess> attach(long pid, java.util.function.LongPredicate identity) {
        try {
            OptionalInt fd = Libc.pidfdOpen(pid);
            if (fd.isEmpty()) return Optional.empty();
            if (!identity.test(pid)) {
                Libc.close(fd.getAsInt());
                return Optional.empty();
            }
            return Optional.of(ExitWatcher.shared().watch(new HostProcess(pid, fd.getAsInt(), false)));
        } catch (IOException e) {
            throw new UncheckedIOException("attach to pid " + pid + ": " + e.getMessage(), e);
        }
    }

    /** The process id. */
    public long pid() {
        return pid;
    }

    /**
     * Completes once the process has exited (for a child: after it was reaped), with its exit status (the exit code,
     * or 128 + the signal that ended it) when it was this JVM's child, empty otherwise.
     */
    public CompletableFuture<OptionalInt> onExit() {
        return exit.copy();
    }

    /** Whether the process has not exited yet. */
    public synchronized boolean isAlive() {
        return pidfd >= 0 && !Libc.exited(pidfd);
    }

    /** Sends SIGTERM, unless the process is gone. */
    public void terminate() {
        signal(Libc.SIGTERM);
    }

    /** Sends SIGKILL, unless the process is gone. */
    public void kill() {
        signal(Libc.SIGKILL);
    }

    private synchronized void signal(int signal) {
        if (pidfd < 0) return;
        int errno = Libc.pidfdSendSignal(pidfd, signal);
        if (errno != 0 && errno != Libc.ESRCH) {
            LOG.warn("signal pid={} signal={} failed={}", pid, signal, Libc.describe(errno));
        }
    }

    /** Called by the watcher once the pidfd is readable: reaps a child, closes the pidfd, completes the exit. */
    void exited() {
        OptionalInt status = OptionalInt.empty();
        synchronized (this) {
            if (child) {
                try {
                    status = Libc.reap(pidfd);
                } catch (IOException e) {
                    LOG.warn("reap pid={} failed={}", pid, e.getMessage());
                }
            }
            Libc.close(pidfd);
            pidfd = -1;
        }
        OptionalInt result = status;
        // dependents (releasing jails, recording events) run on a virtual thread, never on the watcher's
        Thread.ofVirtual().name("exit-" + pid).start(() -> exit.complete(result));
    }

    int pidfd() {
        return pidfd;
    }

    @Override
    public String toString() {
        return "pid " + pid;
    }
}
