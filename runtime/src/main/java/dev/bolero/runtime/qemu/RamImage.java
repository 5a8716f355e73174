package dev.bolero.runtime.qemu;

import dev.bolero.runtime.Snapshot;
import dev.bolero.runtime.VmmException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A paused guest's RAM kept in a snapshot or seed directory beside the devices' state: {@value #FILE}, a sparse file
 * the size of the RAM holding the pages that are not all zeros (a clone can map it as its RAM), and
 * {@value #EXTENTS}, the extents of it that hold data, a line {@code OFFSET LENGTH} each in ascending order (a resume
 * reads only those: reading a file's holes makes the file system fill page cache with zeros).
 */
final class RamImage {
    /** The RAM file. */
    static final String FILE = "qemu-memory";
    /** The list of its extents that hold data. */
    static final String EXTENTS = "qemu-memory.extents";

    private static final int PAGE = 4096;
    private static final int CHUNK = 1 << 20;

    private RamImage() {}

    /** One run of pages that hold data, in bytes. */
    record Extent(long offset, long length) {}

    /**
     * Copies the paused guest's RAM from {@code ram} (a memfd, whose holes read as zeros without being allocated)
     * into {@value #FILE} and {@value #EXTENTS} in {@code dir}, made {@code 0600}; pages of zeros are left out. The
     * files are not forced to disk ({@link #flush}).
     */
    static void save(Path ram, Path dir) throws VmmException {
        Path to = Snapshot.stateFile(dir, FILE);
        ByteBuffer zero = ByteBuffer.allocateDirect(PAGE);
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
        List<Extent> extents = new ArrayList<>();
        try (FileChannel from = FileChannel.open(ram, StandardOpenOption.READ);
                FileChannel out = FileChannel.open(to, StandardOpenOption.WRITE)) {
            long size = from.size();
            long runStart = -1;
            for (long at = 0; at < size; at += buf.limit()) {
                buf.clear();
                while (buf.hasRemaining() && from.read(buf, at + buf.position()) > 0) {
                    // fill the buffer
                }
                buf.flip();
                if (!buf.hasRemaining()) throw new IOException("the RAM file ended at " + at + " of " + size + " bytes");
                for (int page = 0; page < buf.limit(); page += PAGE) {
                    ByteBuffer p = buf.slice(page, Math.min(PAGE, buf.limit() - page));
                    long offset = at + page;
                    if (p.mismatch(zero.slice(0, p.remaining())) == -1) {
                        if (runStart >= 0) extents.add(new Extent(runStart, offset - runStart));
                        runStart = -1;
                        continue;
                    }
                    if (runStart < 0) runStart = offset;
                    while (p.hasRemaining()) out.write(p, offset + p.position());
                }
            }
            if (runStart >= 0) extents.add(new Extent(runStart, size - runStart));
            if (out.size() < size) { // trailing holes
                try (var file = new RandomAccessFile(to.toFile(), "rw")) {
                    file.setLength(size);
                }
            }
        } catch (IOException e) {
            throw new VmmException("copy the guest's RAM to " + to + ": " + e.getMessage(), e);
        }
        Path list = Snapshot.stateFile(dir, EXTENTS);
        try (BufferedWriter w = Files.newBufferedWriter(list, StandardCharsets.US_ASCII)) {
            for (Extent e : extents) w.write(e.offset() + " " + e.length() + "\n");
        } catch (IOException e) {
            throw new VmmException("write the extents of the guest's RAM to " + list + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes the extents of the RAM saved in {@code dir} into {@code ram} (the memfd of a QEMU that has not loaded
     * its state yet), at their offsets.
     *
     * @throws VmmException when the image is missing or does not fit {@code ram} (truncated, an extent out of order
     *     or outside the RAM), or a read or write fails
     */
    static void restore(Path dir, Path ram) throws VmmException {
        Path file = dir.resolve(FILE);
        String what = "write the saved RAM " + file + " into the VM's memory";
        try (FileChannel from = FileChannel.open(file, StandardOpenOption.READ);
                FileChannel to = FileChannel.open(ram, StandardOpenOption.WRITE)) {
            List<Extent> extents = extents(dir.resolve(EXTENTS));
            long size = from.size();
            if (to.size() != size) {
                throw new VmmException(what + ": the VM has " + to.size() + " bytes of RAM, the image " + size);
            }
            long end = 0;
            for (Extent e : extents) {
                if (e.offset() < end || e.length() <= 0 || e.offset() + e.length() > size) {
                    throw new VmmException(what + ": extent " + e.offset() + "+" + e.length() + " is out of order or "
                            + "outside the " + size + " bytes");
                }
                end = e.offset() + e.length();
                to.position(e.offset());
                for (long done = 0; done < e.length(); ) {
                    long n = from.transferTo(e.offset() + done, e.length() - done, to);
                    if (n <= 0) throw new VmmException(what + ": it ended within extent " + e.offset() + "+" + e.length());
                    done += n;
                }
            }
        } catch (IOException e) {
            throw new VmmException(what + ": " + e.getMessage(), e);
        }
    }

    /** Forces the image in {@code dir} to disk. */
    static void flush(Path dir) throws VmmException {
        for (String name : List.of(FILE, EXTENTS)) {
            Path file = dir.resolve(name);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.force(true);
            } catch (IOException e) {
                throw new VmmException("write " + file + " to disk: " + e.getMessage(), e);
            }
        }
    }

    private static List<Extent> extents(Path list) throws IOException, VmmException {
        List<Extent> extents = new ArrayList<>();
        for (String line : Files.readAllLines(list, StandardCharsets.US_ASCII)) {
            String[] parts = line.split(" ");
            try {
                if (parts.length != 2) throw new NumberFormatException("two numbers expected");
                extents.add(new Extent(Long.parseLong(parts[0]), Long.parseLong(parts[1])));
            } catch (NumberFormatException e) {
                throw new VmmException("read the extents of the saved RAM in " + list + ": bad line '" + line + "'");
            }
        }
        return extents;
    }
}
