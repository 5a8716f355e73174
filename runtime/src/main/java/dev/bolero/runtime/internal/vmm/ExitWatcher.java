package dev.bolero.runtime.internal.vmm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Observes the exit of every {@link HostProcess} of this JVM with one platform thread blocked in {@code epoll_wait}
 * over their pidfds (a pidfd becomes readable when its process exits). The thread starts with the first process
 * watched and then stays; adding a pidfd to the set while it waits needs no wake-up.
 */
final class ExitWatcher {
    private static final Logger LOG = LoggerFactory.getLogger(ExitWatcher.class);
    private static final int BATCH = 64;
    private static final Duration RETRY = Duration.ofSeconds(1);
    private static volatile ExitWatcher shared;

    private final int epfd;
    /** Watched processes by pidfd; an entry is added before its fd enters the set, removed before it is closed. */
    private final Map<Integer, HostProcess> watched = new ConcurrentHashMap<>();

    private ExitWatcher(int epfd) {
        this.epfd = epfd;
    }

    /** The JVM's watcher, started on first use. */
    static ExitWatcher shared() {
        ExitWatcher w = shared;
        if (w != null) return w;
        synchronized (ExitWatcher.class) {
            if (shared == null) {
                try {
                    w = new ExitWatcher(Libc.epollCreate());
                } catch (IOException e) {
                    throw new UncheckedIOException("start the VMM exit watcher: " + e.getMessage(), e);
                }
                Thread.ofPlatform().daemon().name("bolero-exit-watcher").start(w::run);
                shared = w;
            }
            return shared;
        }
    }

    /** Adds {@code process} (whose pidfd is open) to the set; returns it. */
    HostProcess watch(HostProcess process) throws IOException {
        watched.put(process.pidfd(), process);
        try {
            Libc.epollAdd(epfd, process.pidfd());
        } catch (IOException e) {
            watched.remove(process.pidfd());
            Libc.close(process.pidfd());
            throw e;
        }
        return process;
    }

    private void run() {
        MemorySegment events = Arena.global().allocate(BATCH * Libc.EPOLL_EVENT_SIZE, 8);
        int[] ready = new int[BATCH];
        while (true) {
            try {
                int n = Libc.epollWait(epfd, events, ready);
                for (int i = 0; i < n; i++) {
                    HostProcess process = watched.remove(ready[i]);
                    if (process == null) continue;
                    try {
                        Libc.epollDelete(epfd, ready[i]);
                    } finally {
                        process.exited(); // closing the pidfd would drop it from the set anyway
                    }
                }
            } catch (IOException | RuntimeException e) {
                LOG.error("exit watcher failed={}; retrying in {}", e.getMessage(), RETRY, e);
                try {
                    Thread.sleep(RETRY);
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }
}
