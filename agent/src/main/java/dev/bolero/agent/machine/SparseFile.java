package dev.bolero.agent.machine;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.Checksum;

/**
 * What a sparse file holds, without reading its holes: its data regions from {@code lseek(2)}'s {@code SEEK_DATA} and
 * {@code SEEK_HOLE} (through the FFM API). Reading a hole makes the file system fill page cache with zeros; a guest's
 * RAM image is mostly holes. On a file system without {@code SEEK_DATA} the whole file is one region.
 */
final class SparseFile {
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 02000000;
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;
    private static final int EINVAL = 22;
    private static final int ENXIO = 6;
    private static final byte[] ZEROS = new byte[1 << 16];

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    /** {@code open(2)} is variadic (its mode). */
    private static final MethodHandle OPEN = LINKER.downcallHandle(LINKER.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), CAPTURE_ERRNO,
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle LSEEK = LINKER.downcallHandle(LINKER.defaultLookup().find("lseek").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private SparseFile() {}

    /** A run of bytes of a file that holds data. */
    record Region(long offset, long length) {}

    /** The regions of {@code file} that hold data, in order. */
    static List<Region> dataRegions(Path file) throws IOException {
        long size = Files.size(file);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(file.toString()), O_RDONLY | O_CLOEXEC, 0);
            if (fd < 0) throw failure("open", file, state);
            try {
                List<Region> regions = new ArrayList<>();
                for (long at = 0; at < size; ) {
                    long data = (long) LSEEK.invokeExact(state, fd, at, SEEK_DATA);
                    if (data < 0 && errno(state) == ENXIO) break; // only a hole up to the end
                    if (data < 0 && errno(state) == EINVAL && at == 0) return List.of(new Region(0, size));
                    if (data < 0) throw failure("lseek SEEK_DATA", file, state);
                    long hole = (long) LSEEK.invokeExact(state, fd, data, SEEK_HOLE);
                    if (hole < 0) throw failure("lseek SEEK_HOLE", file, state);
                    hole = Math.min(hole, size);
                    if (hole > data) regions.add(new Region(data, hole - data));
                    at = hole;
                }
                return regions;
            } finally {
                int unused = (int) CLOSE.invokeExact(fd); // read-only: nothing to lose
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("call into libc", t);
        }
    }

    /** The bytes of {@code file}'s data regions together: about the disk it takes. */
    static long dataBytes(Path file) throws IOException {
        return dataRegions(file).stream().mapToLong(Region::length).sum();
    }

    /** Feeds all of {@code file}'s bytes, holes as zeros, to {@code checksum}, reading only its data regions. */
    static void update(Checksum checksum, Path file) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        long at = 0;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            for (Region r : dataRegions(file)) {
                zeros(checksum, r.offset() - at);
                for (long pos = r.offset(), end = r.offset() + r.length(); pos < end; ) {
                    buf.clear().limit((int) Math.min(buf.capacity(), end - pos));
                    int n = ch.read(buf, pos);
                    if (n <= 0) throw new IOException("read " + file + ": it ended at " + pos + " of " + end);
                    checksum.update(buf.array(), 0, n);
                    pos += n;
                }
                at = r.offset() + r.length();
            }
            zeros(checksum, ch.size() - at);
        }
    }

    private static void zeros(Checksum checksum, long count) {
        for (long left = count; left > 0; left -= ZEROS.length) {
            checksum.update(ZEROS, 0, (int) Math.min(ZEROS.length, left));
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static IOException failure(String call, Path file, MemorySegment state) {
        return new IOException(call + " " + file + ": errno " + errno(state));
    }
}
