package dev.bolero.runtime.qemu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Test root drives: a busybox tree made into an ext4 image with the real mkfs.ext4. */
final class RootDrives {
    private RootDrives() {}

    static Path busybox(Path tree, Path image) throws IOException, InterruptedException {
        Path bin = Files.createDirectories(tree.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
        for (String applet : List.of("sh", "echo", "id", "sleep", "cat", "pwd", "hostname", "env", "ls", "true")) {
            Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        }
        Files.createDirectories(tree.resolve("srv"));
        Path etc = Files.createDirectories(tree.resolve("etc"));
        Files.writeString(etc.resolve("passwd"), """
                root:x:0:0:root:/root:/bin/sh
                nobody:x:65534:65534:nobody:/nonexistent:/bin/false
                app:x:1000:1000:app:/home/app:/bin/sh
                """, StandardCharsets.UTF_8);
        Files.writeString(etc.resolve("group"), """
                root:x:0:
                nogroup:x:65534:
                app:x:1000:
                extra:x:2000:app
                """, StandardCharsets.UTF_8);
        Process p = new ProcessBuilder("mkfs.ext4", "-q", "-F", "-d", tree.toString(), "-O", "^has_journal",
                        image.toString(), "32M")
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IOException("mkfs.ext4 " + image + ": " + out);
        return image;
    }
}
