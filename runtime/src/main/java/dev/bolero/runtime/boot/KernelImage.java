package dev.bolero.runtime.boot;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.tukaani.xz.SingleXZInputStream;

/** Turns a bzImage into an uncompressed vmlinux that QEMU can boot through its PVH entry. */
final class KernelImage {
    private static final byte[] XZ_MAGIC = {(byte) 0xfd, '7', 'z', 'X', 'Z', 0};
    private static final int PT_NOTE = 4;
    /** XEN_ELFNOTE_PHYS32_ENTRY: the 32-bit entry point QEMU's PVH boot jumps to. */
    private static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;

    private KernelImage() {}

    /**
     * Decompresses the XZ payload of {@code bzImage} into {@code vmlinux}.
     *
     * @return empty on success, else why it could not (the caller falls back to the bzImage); {@code vmlinux} is
     *     deleted then
     */
    static Optional<String> extractVmlinux(Path bzImage, Path vmlinux) throws IOException {
        byte[] image = Files.readAllBytes(bzImage);
        int at = indexOf(image, XZ_MAGIC, 0);
        if (at < 0) return Optional.of("no XZ payload in " + bzImage);
        String reason = "no XZ stream in " + bzImage + " decompresses to an ELF";
        for (; at >= 0; at = indexOf(image, XZ_MAGIC, at + 1)) {
            try (InputStream in = new SingleXZInputStream(
                            new BufferedInputStream(new java.io.ByteArrayInputStream(image, at, image.length - at)));
                    OutputStream out = Files.newOutputStream(vmlinux)) {
                in.transferTo(out);
            } catch (IOException e) {
                continue; // a false magic match inside the setup code or the payload
            }
            Optional<String> problem = checkPvh(vmlinux);
            if (problem.isEmpty()) return Optional.empty();
            reason = problem.get();
        }
        Files.deleteIfExists(vmlinux);
        return Optional.of(reason);
    }

    /** Empty when {@code elf} is an ELF64 with a PVH entry note, else what is wrong. */
    static Optional<String> checkPvh(Path elf) throws IOException {
        try (FileChannel ch = FileChannel.open(elf, StandardOpenOption.READ)) {
            ByteBuffer h = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(h, 0);
            h.flip();
            if (h.limit() < 64 || h.getInt(0) != 0x464c457f || h.get(4) != 2) {
                return Optional.of("decompressed kernel is not an ELF64 image");
            }
            long phoff = h.getLong(0x20);
            int phentsize = Short.toUnsignedInt(h.getShort(0x36));
            int phnum = Short.toUnsignedInt(h.getShort(0x38));
            ByteBuffer ph = ByteBuffer.allocate(phentsize * phnum).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(ph, phoff);
            for (int i = 0; i < phnum; i++) {
                int base = i * phentsize;
                if (ph.getInt(base) != PT_NOTE) continue;
                long offset = ph.getLong(base + 8);
                long size = ph.getLong(base + 32);
                if (size > 1 << 20) continue;
                ByteBuffer notes = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
                ch.read(notes, offset);
                if (hasPvhNote(notes)) return Optional.empty();
            }
            return Optional.of("vmlinux has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): kernel built without CONFIG_PVH");
        }
    }

    private static boolean hasPvhNote(ByteBuffer notes) {
        int pos = 0;
        while (pos + 12 <= notes.limit()) {
            int namesz = notes.getInt(pos);
            int descsz = notes.getInt(pos + 4);
            int type = notes.getInt(pos + 8);
            int name = pos + 12;
            if (namesz < 0 || descsz < 0 || name + namesz > notes.limit()) return false;
            boolean xen = namesz >= 3 && notes.get(name) == 'X' && notes.get(name + 1) == 'e' && notes.get(name + 2) == 'n';
            if (xen && type == XEN_ELFNOTE_PHYS32_ENTRY) return true;
            pos = name + align4(namesz) + align4(descsz);
        }
        return false;
    }

    private static int align4(int n) {
        return (n + 3) & ~3;
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = from; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) continue outer;
            }
            return i;
        }
        return -1;
    }
}
