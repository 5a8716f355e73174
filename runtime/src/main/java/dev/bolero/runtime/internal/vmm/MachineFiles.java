package dev.bolero.runtime.internal.vmm;

import dev.bolero.runtime.VmmException;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Checks and prepares the files a VMM is given: its kernel and the machine's private root drive. */
public final class MachineFiles {

    private static final byte[] ELF_MAGIC = {0x7f, 'E', 'L', 'F'};
    /** A bzImage carries the x86 boot protocol's header magic "HdrS" at offset 0x202. */
    private static final int BZIMAGE_MAGIC_OFFSET = 0x202;
    private static final byte[] BZIMAGE_MAGIC = "HdrS".getBytes(StandardCharsets.US_ASCII);

    /** How ENOSPC reads in cp's and the JDK's messages. */
    private static final String NO_SPACE = "No space left on device";

    /** {@code sun_path} holds 108 bytes including the terminating NUL. */
    private static final int MAX_SOCKET_PATH = 107;

    private MachineFiles() {}

    /**
     * Requires {@code kernel} to be an ELF {@code vmlinux}.
     *
     * @throws VmmException {@code "<vmm> needs an uncompressed vmlinux kernel, got a bzImage: PATH"} for a bzImage,
     *     a similar message for anything else that is not ELF, or when the file cannot be read
     */
    public static void requireVmlinux(String vmm, Path kernel) throws VmmException {
        byte[] head;
        try (InputStream in = Files.newInputStream(kernel)) {
            head = in.readNBytes(BZIMAGE_MAGIC_OFFSET + BZIMAGE_MAGIC.length);
        } catch (IOException e) {
            throw new VmmException(vmm + ": read kernel " + kernel + ": " + e.getMessage(), e);
        }
        if (startsWith(head, 0, ELF_MAGIC)) return;
        if (startsWith(head, BZIMAGE_MAGIC_OFFSET, BZIMAGE_MAGIC)) {
            throw new VmmException(vmm + " needs an uncompressed vmlinux kernel, got a bzImage: " + kernel);
        }
        throw new VmmException(vmm + " needs an uncompressed vmlinux kernel, got a file that is not ELF: " + kernel);
    }

    /**
     * Gives the machine its own writable copy of the shared root drive: a reflink (copy-on-write) where the file
     * system can, otherwise a sparse copy; extended (sparsely) to {@code bytes} when that is larger. A copy that fails
     * leaves no file at {@code target}.
     *
     * @throws VmmException when the copy fails; when the disk is full, its message starts with
     *     {@code copy root drive BASE to TARGET: the disk is full}
     */
    public static void copyRootDrive(Path base, Path target, long bytes) throws VmmException {
        String action = "copy root drive " + base + " to " + target;
        try {
            run(action, List.of("cp", "--reflink=auto", "--sparse=always", base.toString(), target.toString()));
            try (RandomAccessFile file = new RandomAccessFile(target.toFile(), "rw")) {
                if (file.length() < bytes) file.setLength(bytes);
            } catch (IOException e) {
                throw new VmmException("grow root drive " + target + " to " + bytes + " bytes: " + e.getMessage(), e);
            }
        } catch (VmmException e) {
            try {
                Files.deleteIfExists(target);
            } catch (IOException removal) {
                e.addSuppressed(removal);
            }
            if (String.valueOf(e.getMessage()).contains(NO_SPACE)) {
                throw new VmmException(action + ": the disk is full (" + NO_SPACE + "); the partial copy was removed", e);
            }
            throw e;
        }
    }

    /** Creates a named pipe. */
    public static void mkfifo(Path fifo) throws VmmException {
        run("mkfifo " + fifo, List.of("mkfifo", "-m", "0600", fifo.toString()));
    }

    /** The last {@code maxBytes} of a log file, for error messages; a note instead when it cannot be read. */
    public static String tail(Path log, int maxBytes) {
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            long from = Math.max(0, file.length() - maxBytes);
            byte[] tail = new byte[(int) (file.length() - from)];
            file.seek(from);
            file.readFully(tail);
            return new String(tail, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no diagnostics: read " + log + ": " + e.getMessage() + ")";
        }
    }

    /**
     * Requires a Unix socket path to fit {@code sun_path}.
     *
     * @throws VmmException naming {@code action} when it is too long
     */
    public static void requireSocketPath(String action, Path socket) throws VmmException {
        if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
            throw new VmmException(action + ": socket path longer than " + MAX_SOCKET_PATH + " bytes: " + socket);
        }
    }

    private static void run(String action, List<String> command) throws VmmException {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (p.waitFor() != 0) throw new VmmException(action + ": " + output);
        } catch (IOException e) {
            throw new VmmException(action + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmmException(action + ": interrupted", e);
        }
    }

    private static boolean startsWith(byte[] data, int offset, byte[] magic) {
        return data.length >= offset + magic.length
                && Arrays.equals(data, offset, offset + magic.length, magic, 0, magic.length);
    }
}
