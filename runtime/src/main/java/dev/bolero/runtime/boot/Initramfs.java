package dev.bolero.runtime.boot;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveOutputStream;
import org.apache.commons.compress.archivers.cpio.CpioConstants;
import org.tukaani.xz.XZInputStream;

/**
 * Writes the uncompressed newc initramfs: {@code /init}, mount points, {@code /dev/console} and the modules with their
 * load-order list (neither when there are no modules: a kernel with every driver built in needs none).
 */
final class Initramfs {
    private static final byte[] SIGNATURE_MARKER = "~Module signature appended~\n".getBytes(StandardCharsets.US_ASCII);
    /** struct module_signature: 5 bytes of lengths and ids, 3 of padding, a big-endian signature length. */
    private static final int SIGNATURE_INFO = 12;
    static final String MODULE_DIR = "lib/modules";
    static final String MODULE_LIST = "etc/bolero/modules";

    private Initramfs() {}

    static void write(Path target, byte[] init, List<Path> modules) throws IOException {
        try (OutputStream file = Files.newOutputStream(target);
                var cpio = new CpioArchiveOutputStream(file, CpioConstants.FORMAT_NEW)) {
            for (String dir : List.of("dev", "proc", "sys", "newroot")) {
                entry(cpio, dir, CpioConstants.C_ISDIR | 0755, new byte[0]);
            }
            var console = new CpioArchiveEntry(CpioConstants.FORMAT_NEW, "dev/console");
            console.setMode(CpioConstants.C_ISCHR | 0600);
            console.setRemoteDeviceMaj(5);
            console.setRemoteDeviceMin(1);
            console.setNumberOfLinks(1);
            cpio.putArchiveEntry(console);
            cpio.closeArchiveEntry();
            entry(cpio, "init", CpioConstants.C_ISREG | 0755, init);
            if (!modules.isEmpty()) writeModules(cpio, modules);
            cpio.finish();
        }
    }

    private static void writeModules(CpioArchiveOutputStream cpio, List<Path> modules) throws IOException {
        for (String dir : List.of("etc", "etc/bolero", "lib", MODULE_DIR)) {
            entry(cpio, dir, CpioConstants.C_ISDIR | 0755, new byte[0]);
        }
        var list = new StringBuilder();
        for (Path module : modules) {
            String name = ModuleClosure.moduleName(module.getFileName().toString()) + ".ko";
            entry(cpio, MODULE_DIR + "/" + name, CpioConstants.C_ISREG | 0644, moduleBytes(module));
            list.append('/').append(MODULE_DIR).append('/').append(name).append('\n');
        }
        entry(cpio, MODULE_LIST, CpioConstants.C_ISREG | 0644, list.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static void entry(CpioArchiveOutputStream cpio, String name, int mode, byte[] data) throws IOException {
        var e = new CpioArchiveEntry(CpioConstants.FORMAT_NEW, name);
        e.setMode(mode);
        e.setSize(data.length);
        e.setNumberOfLinks((mode & CpioConstants.S_IFMT) == CpioConstants.C_ISDIR ? 2 : 1);
        cpio.putArchiveEntry(e);
        cpio.write(data);
        cpio.closeArchiveEntry();
    }

    /** The module's ELF image: decompressed, its appended signature removed (it only slows loading). */
    static byte[] moduleBytes(Path module) throws IOException {
        String file = module.getFileName().toString();
        byte[] data;
        if (file.endsWith(".ko")) {
            data = Files.readAllBytes(module);
        } else if (file.endsWith(".ko.xz")) {
            try (InputStream in = new XZInputStream(Files.newInputStream(module))) {
                var out = new ByteArrayOutputStream();
                in.transferTo(out);
                data = out.toByteArray();
            }
        } else {
            throw new IOException("kernel module " + module + ": unsupported compression (need .ko or .ko.xz)");
        }
        return stripSignature(data);
    }

    static byte[] stripSignature(byte[] ko) {
        int markerAt = ko.length - SIGNATURE_MARKER.length;
        if (markerAt < SIGNATURE_INFO
                || !Arrays.equals(ko, markerAt, ko.length, SIGNATURE_MARKER, 0, SIGNATURE_MARKER.length)) {
            return ko;
        }
        int info = markerAt - SIGNATURE_INFO;
        long sigLen = ((ko[info + 8] & 0xffL) << 24) | ((ko[info + 9] & 0xff) << 16) | ((ko[info + 10] & 0xff) << 8)
                | (ko[info + 11] & 0xff);
        long signer = ko[info + 3] & 0xff;
        long keyId = ko[info + 4] & 0xff;
        long end = info - sigLen - signer - keyId;
        return end <= 0 ? ko : Arrays.copyOf(ko, (int) end);
    }
}
