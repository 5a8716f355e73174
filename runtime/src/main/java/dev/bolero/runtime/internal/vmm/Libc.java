package dev.bolero.runtime.internal.vmm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The Linux calls behind {@link HostProcess}, through the FFM API: {@code posix_spawnp(3)}, {@code pidfd_open(2)},
 * {@code pidfd_send_signal(2)}, {@code waitid(2)} with {@code P_PIDFD}, {@code poll(2)} and {@code epoll(7)}. Needs
 * Linux 5.4 and glibc 2.34 ({@code posix_spawn_file_actions_addclosefrom_np}). Failures throw {@link IOException}
 * naming the call and the errno.
 */
final class Libc {
    static final int SIGKILL = 9;
    static final int SIGTERM = 15;
    static final int ESRCH = 3;
    private static final int EINTR = 4;
    private static final int ECHILD = 10;

    private static final long SYS_PIDFD_SEND_SIGNAL = 424; // the same number on every Linux architecture (since 5.1)
    private static final long SYS_PIDFD_OPEN = 434;
    private static final int P_PIDFD = 3;
    private static final int WEXITED = 4;
    private static final int CLD_EXITED = 1;
    private static final int SIGINFO_SIZE = 128;
    private static final int SI_CODE = 8;
    private static final int SI_STATUS = 24; // after si_pid and si_uid in the 64-bit sigchld union member

    private static final int O_WRONLY = 1;
    private static final int O_CREAT = 0100;
    private static final int O_APPEND = 02000;
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    private static final short POSIX_SPAWN_SETSID = 0x80;
    /** Generous sizes for glibc's opaque spawn types (80, 336 and 128 bytes on x86-64). */
    private static final long SPAWN_TYPE_SIZE = 1024;

    private static final int POLLIN = 1;
    private static final int EPOLL_CLOEXEC = 02000000;
    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLL_CTL_DEL = 2;
    /** struct epoll_event is packed on x86-64 (12 bytes), naturally aligned elsewhere (16 bytes). */
    private static final boolean PACKED_EPOLL = List.of("amd64", "x86_64").contains(System.getProperty("os.arch"));
    static final long EPOLL_EVENT_SIZE = PACKED_EPOLL ? 12 : 16;
    private static final long EPOLL_DATA = PACKED_EPOLL ? 4 : 8;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURED = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURED.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle SYSCALL_2 = errnoCall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SYSCALL_4 = errnoCall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    private static final MethodHandle WAITID = errnoCall("waitid",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle CLOSE = call("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle POLL = errnoCall("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle EPOLL_CREATE1 = errnoCall("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CTL = errnoCall("epoll_ctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle EPOLL_WAIT = errnoCall("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle STRERROR = call("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private static final MethodHandle SPAWNP = call("posix_spawnp",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle FA_INIT = call("posix_spawn_file_actions_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle FA_DESTROY = call("posix_spawn_file_actions_destroy",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle FA_OPEN = call("posix_spawn_file_actions_addopen",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle FA_DUP2 = call("posix_spawn_file_actions_adddup2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle FA_CLOSEFROM = call("posix_spawn_file_actions_addclosefrom_np",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle ATTR_INIT = call("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ATTR_DESTROY = call("posix_spawnattr_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ATTR_FLAGS = call("posix_spawnattr_setflags",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT));
    private static final MethodHandle ATTR_SIGMASK = call("posix_spawnattr_setsigmask",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle ATTR_SIGDEFAULT = call("posix_spawnattr_setsigdefault",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SIGEMPTYSET = call("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle SIGFILLSET = call("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));

    private Libc() {}

    /**
     * Spawns {@code argv} (the program looked up on {@code PATH}) as the leader of a new session, with the default
     * action and no mask for every signal, stdin from {@code /dev/null}, stdout and stderr appended to {@code log}
     * (created if missing) and no other descriptor of this JVM.
     *
     * @return the child's pid
     */
    static long spawn(List<String> argv, Map<String, String> env, Path log) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment actions = arena.allocate(SPAWN_TYPE_SIZE, 16);
            MemorySegment attr = arena.allocate(SPAWN_TYPE_SIZE, 16);
            MemorySegment signals = arena.allocate(SPAWN_TYPE_SIZE, 16);
            check("posix_spawn_file_actions_init", (int) FA_INIT.invokeExact(actions));
            check("posix_spawnattr_init", (int) ATTR_INIT.invokeExact(attr));
            try {
                check("posix_spawn_file_actions_addopen", (int) FA_OPEN.invokeExact(actions, 0,
                        arena.allocateFrom("/dev/null"), 0, 0));
                check("posix_spawn_file_actions_addopen", (int) FA_OPEN.invokeExact(actions, 1,
                        arena.allocateFrom(log.toString()), O_WRONLY | O_CREAT | O_APPEND, 0600));
                check("posix_spawn_file_actions_adddup2", (int) FA_DUP2.invokeExact(actions, 1, 2));
                check("posix_spawn_file_actions_addclosefrom_np", (int) FA_CLOSEFROM.invokeExact(actions, 3));
                check("posix_spawnattr_setflags", (int) ATTR_FLAGS.invokeExact(attr,
                        (short) (POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)));
                check("sigemptyset", (int) SIGEMPTYSET.invokeExact(signals));
                check("posix_spawnattr_setsigmask", (int) ATTR_SIGMASK.invokeExact(attr, signals));
                check("sigfillset", (int) SIGFILLSET.invokeExact(signals));
                check("posix_spawnattr_setsigdefault", (int) ATTR_SIGDEFAULT.invokeExact(attr, signals));
                MemorySegment pid = arena.allocate(JAVA_INT);
                int error = (int) SPAWNP.invokeExact(pid, arena.allocateFrom(argv.getFirst()), actions, attr,
                        strings(arena, argv), strings(arena, env.entrySet().stream()
                                .map(e -> e.getKey() + "=" + e.getValue()).toList()));
                if (error != 0) throw new IOException(describe(error));
                return pid.get(JAVA_INT, 0);
            } finally {
                int ignored = (int) FA_DESTROY.invokeExact(actions);
                ignored = (int) ATTR_DESTROY.invokeExact(attr);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException("posix_spawnp: " + e, e);
        }
    }

    /** {@code ENOENT}: newer kernels (6.x) give it to pidfd_open for a process that is exiting. */
    private static final int ENOENT = 2;

    /** A pidfd for {@code pid} (close-on-exec), or empty when there is no such process ({@code ESRCH}, {@code ENOENT}). */
    static OptionalInt pidfdOpen(long pid) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            long fd = (long) SYSCALL_2.invokeExact(state, SYS_PIDFD_OPEN, pid, 0L);
            if (fd >= 0) return OptionalInt.of((int) fd);
            int errno = errno(state);
            if (errno == ESRCH || errno == ENOENT) return OptionalInt.empty();
            throw new IOException("pidfd_open " + pid + ": " + describe(errno));
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException("pidfd_open " + pid + ": " + e, e);
        }
    }

    /** Sends {@code signal} to the process behind {@code pidfd}; returns the errno, 0 on success. */
    static int pidfdSendSignal(int pidfd, int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            long result = (long) SYSCALL_4.invokeExact(state, SYS_PIDFD_SEND_SIGNAL, (long) pidfd, (long) signal, 0L, 0L);
            return result == 0 ? 0 : errno(state);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("pidfd_send_signal: " + e, e);
        }
    }

    /**
     * Reaps the exited child behind {@code pidfd}: its exit code, or 128 + the signal that ended it (as
     * {@link Process#exitValue()}); empty when it is not this process's child (or was reaped already).
     */
    static OptionalInt reap(int pidfd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            MemorySegment info = arena.allocate(SIGINFO_SIZE, 8);
            while (true) {
                int result = (int) WAITID.invokeExact(state, P_PIDFD, pidfd, info, WEXITED);
                if (result == 0) {
                    int status = info.get(JAVA_INT, SI_STATUS);
                    return OptionalInt.of(info.get(JAVA_INT, SI_CODE) == CLD_EXITED ? status : 128 + status);
                }
                int errno = errno(state);
                if (errno == ECHILD) return OptionalInt.empty();
                if (errno != EINTR) throw new IOException("waitid: " + describe(errno));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException("waitid: " + e, e);
        }
    }

    /** Whether {@code pidfd} is readable now, which it is once its process has exited. */
    static boolean exited(int pidfd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            MemorySegment pollfd = arena.allocate(8, 4);
            pollfd.set(JAVA_INT, 0, pidfd);
            pollfd.set(JAVA_SHORT, 4, (short) POLLIN);
            int ready = (int) POLL.invokeExact(state, pollfd, 1L, 0);
            if (ready < 0) throw new IllegalStateException("poll pidfd " + pidfd + ": " + describe(errno(state)));
            return ready > 0;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("poll: " + e, e);
        }
    }

    static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable e) {
            throw new IllegalStateException("close " + fd + ": " + e, e);
        }
    }

    static int epollCreate() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            int fd = (int) EPOLL_CREATE1.invokeExact(state, EPOLL_CLOEXEC);
            if (fd < 0) throw new IOException("epoll_create1: " + describe(errno(state)));
            return fd;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException("epoll_create1: " + e, e);
        }
    }

    /** Adds {@code fd} to the epoll set for readability, with the fd itself as the event's data. */
    static void epollAdd(int epfd, int fd) throws IOException {
        epollCtl(epfd, EPOLL_CTL_ADD, fd);
    }

    static void epollDelete(int epfd, int fd) throws IOException {
        epollCtl(epfd, EPOLL_CTL_DEL, fd);
    }

    private static void epollCtl(int epfd, int op, int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            MemorySegment event = arena.allocate(EPOLL_EVENT_SIZE, 4);
            event.set(JAVA_INT, 0, POLLIN);
            event.set(JAVA_INT.withByteAlignment(4), EPOLL_DATA, fd);
            if ((int) EPOLL_CTL.invokeExact(state, epfd, op, fd, event) != 0) {
                throw new IOException("epoll_ctl " + op + " fd " + fd + ": " + describe(errno(state)));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException("epoll_ctl: " + e, e);
        }
    }

    /**
     * Blocks until some fd of the set is ready (retrying on EINTR) and stores their numbers in {@code ready}.
     *
     * @param events room for {@code ready.length} events of {@link #EPOLL_EVENT_SIZE} bytes
     * @return how many fds are ready
     */
    static int epollWait(int epfd, MemorySegment events, int[] ready) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            while (true) {
                int n = (int) EPOLL_WAIT.invokeExact(state, epfd, events, ready.length, -1);
                if (n >= 0) {
                    for (int i = 0; i < n; i++) {
                        ready[i] = events.get(JAVA_INT.withByteAlignment(4), i * EPOLL_EVENT_SIZE + EPOLL_DATA);
                    }
                    return n;
                }
                int errno = errno(state);
                if (errno != EINTR) throw new IOException("epoll_wait: " + describe(errno));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException("epoll_wait: " + e, e);
        }
    }

    /** {@code strerror(errno)} with the number, e.g. {@code No such process (errno 3)}. */
    static String describe(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.reinterpret(256).getString(0) + " (errno " + errno + ")";
        } catch (Throwable e) {
            return "errno " + errno;
        }
    }

    private static MemorySegment strings(Arena arena, List<String> values) {
        MemorySegment array = arena.allocate(ADDRESS, values.size() + 1);
        for (int i = 0; i < values.size(); i++) array.setAtIndex(ADDRESS, i, arena.allocateFrom(values.get(i)));
        array.setAtIndex(ADDRESS, values.size(), MemorySegment.NULL);
        return array;
    }

    private static void check(String call, int error) throws IOException {
        if (error != 0) throw new IOException(call + ": " + describe(error));
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static MethodHandle call(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(symbol(name), descriptor);
    }

    private static MethodHandle errnoCall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        Linker.Option[] all = java.util.Arrays.copyOf(options, options.length + 1);
        all[options.length] = Linker.Option.captureCallState("errno");
        return LINKER.downcallHandle(symbol(name), descriptor, all);
    }

    private static MemorySegment symbol(String name) {
        return LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsupportedOperationException(name + " is not in this C library"));
    }
}
