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

/** {@code mknod(2)} from libc through the FFM API, for device nodes and FIFOs in layers. */
final class Posix {
    static final int S_IFIFO = 0010000;
    static final int S_IFCHR = 0020000;
    static final int S_IFBLK = 0060000;

    private static final StructLayout CAPTURED = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURED.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Optional<MethodHandle> MKNOD = lookup();

    private Posix() {}

    private static Optional<MethodHandle> lookup() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("mknod").map(address -> linker.downcallHandle(address,
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
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
}
