package dev.bolero.network;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs work inside another network namespace: on a short-lived platform thread that first joins it with
 * {@code setns(2)}. What the work opens there (sockets, netlink contexts) stays in that namespace after the thread
 * ends; the calling thread and the rest of the process stay where they are.
 */
final class NetnsThread {
    private static final int CLONE_NEWNET = 0x40000000;
    private static final int O_RDONLY_CLOEXEC = 0x80000;

    private NetnsThread() {}

    /**
     * Runs {@code work} in network namespace {@code name} (as {@code ip netns} names it) and returns its result.
     *
     * @throws IOException if the namespace cannot be joined
     * @throws InterruptedException if the caller is interrupted while waiting
     * @throws Exception whatever {@code work} throws
     */
    static <T> T call(String name, Callable<T> work) throws Exception {
        var result = new AtomicReference<T>();
        var failure = new AtomicReference<Exception>();
        var thread = Thread.ofPlatform().name("netns-" + name).start(() -> {
            try {
                join(name);
                result.set(work.call());
            } catch (Exception e) {
                failure.set(e);
            }
        });
        thread.join();
        if (failure.get() != null) throw failure.get();
        return result.get();
    }

    /** Moves the calling (platform) thread into network namespace {@code name}. */
    private static void join(String name) throws IOException {
        var linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        var open = linker.downcallHandle(libc.findOrThrow("open"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
                Linker.Option.captureCallState("errno"));
        var setns = linker.downcallHandle(libc.findOrThrow("setns"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                Linker.Option.captureCallState("errno"));
        var close = linker.downcallHandle(libc.findOrThrow("close"), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        var stateLayout = Linker.Option.captureStateLayout();
        var errno = stateLayout.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        var path = "/run/netns/" + name;
        try (var arena = Arena.ofConfined()) {
            var state = arena.allocate(stateLayout);
            int fd = (int) open.invokeExact(state, arena.allocateFrom(path), O_RDONLY_CLOEXEC);
            if (fd < 0) throw new IOException("join network namespace: open " + path + ": errno " + (int) errno.get(state, 0L));
            try {
                if ((int) setns.invokeExact(state, fd, CLONE_NEWNET) != 0) {
                    throw new IOException("join network namespace: setns " + path + ": errno " + (int) errno.get(state, 0L));
                }
            } finally {
                int ignored = (int) close.invokeExact(fd);
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("join network namespace " + name + ": " + t, t);
        }
    }
}
