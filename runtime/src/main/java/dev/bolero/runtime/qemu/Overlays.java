package dev.bolero.runtime.qemu;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Creates the empty copy-on-write qcow2 overlays machines boot from. An empty overlay depends only on the path of its
 * backing file (as the VMM names it) and its size, so {@code qemu-img create} runs once per pair and later overlays
 * are copies of its output: a machine start spends no process spawn on it (10–40 ms on a loaded host).
 *
 * <p>Thread-safe. Keeps the last {@value #KEEP} distinct templates (about 200 KiB each).
 */
final class Overlays {
    static final int KEEP = 16;

    /** What an overlay is made from: the backing file's path as the VMM opens it, and the virtual size. */
    private record Key(String backing, long size) {}

    private final Map<Key, byte[]> templates = new LinkedHashMap<>(KEEP, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, byte[]> eldest) {
            return size() > KEEP;
        }
    };

    /**
     * Writes an empty {@code 0600} qcow2 overlay of {@code size} bytes over the raw file {@code backing} to
     * {@code overlay}, which must not exist.
     *
     * @param backing the backing file's path as the VMM will open it
     * @param checked whether {@code backing} exists on this host's file system (it is opened once, to check it);
     *     false when it is a path inside a jail
     * @throws IOException naming {@code what} when {@code qemu-img} fails or the file cannot be written (a full disk
     *     among others); nothing is left at {@code overlay} then
     */
    void create(String what, Path overlay, String backing, boolean checked, long size) throws IOException {
        Objects.requireNonNull(overlay, "overlay");
        if (Files.exists(overlay, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(overlay.toString(), null, what + ": the overlay exists");
        }
        try {
            write(what, overlay, backing, checked, size);
        } catch (IOException e) {
            Files.deleteIfExists(overlay); // a partial overlay (ENOSPC mid-write) boots nothing
            throw e;
        }
    }

    /**
     * Writes an empty {@code 0600} qcow2 overlay over the qcow2 file {@code backing}, of its virtual size, to
     * {@code overlay}, which must not exist. The backing file is not opened by {@code qemu-img} (its own backing file
     * may be a path inside a jail): its size is read from its header.
     *
     * @param backingAs the backing file's path as the VMM will open it
     * @throws IOException naming {@code what} when {@code backing} is no qcow2 file or {@code qemu-img} fails; nothing
     *     is left at {@code overlay} then
     */
    void createOver(String what, Path overlay, Path backing, String backingAs) throws IOException {
        long size;
        try (var in = Files.newInputStream(backing)) {
            var header = java.nio.ByteBuffer.wrap(in.readNBytes(32));
            if (header.remaining() < 32 || header.getInt(0) != QCOW2_MAGIC) {
                throw new IOException(what + ": " + backing + " is no qcow2 file");
            }
            size = header.getLong(24);
        }
        try {
            run(what + ": create overlay", List.of("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                    backingAs, "-u", overlay.toString(), Long.toString(size)));
            Files.setPosixFilePermissions(overlay, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            Files.deleteIfExists(overlay);
            throw e;
        }
    }

    /** The first four bytes of a qcow2 file: {@code QFI\xfb}. */
    private static final int QCOW2_MAGIC = 0x514649fb;

    private void write(String what, Path overlay, String backing, boolean checked, long size) throws IOException {
        Key key = new Key(Objects.requireNonNull(backing, "backing"), size);
        byte[] template;
        synchronized (templates) {
            template = templates.get(key);
        }
        if (template == null) {
            run(what + ": create overlay", checked
                    ? List.of("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", backing,
                            overlay.toString(), Long.toString(size))
                    : List.of("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", backing, "-u",
                            overlay.toString(), Long.toString(size)));
            Files.setPosixFilePermissions(overlay, PosixFilePermissions.fromString("rw-------"));
            byte[] made = Files.readAllBytes(overlay);
            synchronized (templates) {
                templates.put(key, made);
            }
            return;
        }
        Files.write(overlay, template, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        Files.setPosixFilePermissions(overlay, PosixFilePermissions.fromString("rw-------"));
    }

    private static void run(String what, List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            int status = p.waitFor();
            if (status != 0) throw new IOException(what + ": " + command.getFirst() + " exited with " + status + ": " + out);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(what + ": interrupted");
        }
    }
}
