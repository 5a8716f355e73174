package dev.bolero.oci;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code mknod(2)}, {@code lsetxattr(2)} and {@code utimensat(2)} from libc through the FFM API: device nodes and FIFOs in layers, and
 * modification times set without following symlinks or opening the file (the JDK opens it, which blocks on a FIFO).
 */
final class Posix {
    static final int S_IFIFO = 0010000;
    static final int S_IFCHR = 0020000;
    static final int S_IFBLK = 0060000;

    private static final StructLayout CAPTURED = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURED.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final long UTIME_OMIT = (1L << 30) - 2;
    private static final Optional<MethodHandle> MKNOD = lookup("mknod",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final Optional<MethodHandle> UTIMENSAT = lookup("utimensat",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private static final Optional<MethodHandle> LSETXATTR = lookup("lsetxattr",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));

    private Posix() {}

    /**
     * Sets an extended attribute on {@code path} itself (a symlink is not followed).
     *
     * @return the errno on failure, 0 on success
     * @throws IOException if lsetxattr cannot be called at all
     */
    static int lsetxattr(Path path, String name, byte[] value) throws IOException {
        MethodHandle lsetxattr = LSETXATTR.orElseThrow(() -> new IOException("lsetxattr is not available through the FFM API"));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            MemorySegment bytes = arena.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, bytes, ValueLayout.JAVA_BYTE, 0, value.length);
            int result = (int) lsetxattr.invokeExact(state, arena.allocateFrom(path.toString()), arena.allocateFrom(name),
                    bytes, (long) value.length, 0);
            return result == 0 ? 0 : (int) ERRNO.get(state, 0L);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException("lsetxattr " + path + " failed", e);
        }
    }

    private static Optional<MethodHandle> lookup(String name, FunctionDescriptor descriptor) {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find(name).map(address -> linker.downcallHandle(address, descriptor,
                    Linker.Option.captureCallState("errno")));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Linux's makedev(3). */
    static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8) | ((minor & 0xffffff00L) << 12) | (minor & 0xffL);
    }

    /**
     * Creates a node; does not follow a symlink at {@code path} (mknod fails if anything exists there).
     *
     * @return the errno on failure, 0 on success
     * @throws IOException if mknod cannot be called at all
     */
    static int mknod(Path path, int mode, long device) throws IOException {
        MethodHandle mknod = MKNOD.orElseThrow(() -> new IOException("mknod is not available through the FFM API"));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            int result = (int) mknod.invokeExact(state, arena.allocateFrom(path.toString()), mode, device);
            return result == 0 ? 0 : (int) ERRNO.get(state, 0L);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException("mknod " + path + " failed", e);
        }
    }

    /**
     * Sets the modification time of {@code path} itself (a symlink is not followed), leaving the access time.
     *
     * @throws IOException naming the path and errno on failure
     */
    static void setModifiedTime(Path path, long epochSecond, int nanos) throws IOException {
        MethodHandle utimensat = UTIMENSAT.orElseThrow(() -> new IOException("utimensat is not available through the FFM API"));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            MemorySegment times = arena.allocate(ValueLayout.JAVA_LONG, 4);
            times.setAtIndex(ValueLayout.JAVA_LONG, 0, 0);
            times.setAtIndex(ValueLayout.JAVA_LONG, 1, UTIME_OMIT);
            times.setAtIndex(ValueLayout.JAVA_LONG, 2, epochSecond);
            times.setAtIndex(ValueLayout.JAVA_LONG, 3, nanos);
            int result = (int) utimensat.invokeExact(state, AT_FDCWD, arena.allocateFrom(path.toString()), times, AT_SYMLINK_NOFOLLOW);
            if (result != 0) {
                throw new IOException("utimensat " + path + " failed (errno " + (int) ERRNO.get(state, 0L) + ")");
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException("utimensat " + path + " failed", e);
        }
    }
}
