package dev.bolero.runtime.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import dev.bolero.runtime.SmallDisk;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Overlays against the real qemu-img. */
class OverlaysTest {
    @TempDir
    Path dir;
    Path base;

    @BeforeEach
    void base() throws IOException {
        assumeTrue(QemuDriverIT.onPath("qemu-img"), "qemu-img is not installed");
        base = dir.resolve("base.raw");
        try (var f = new RandomAccessFile(base.toFile(), "rw")) {
            f.setLength(8 << 20);
        }
    }

    @Test
    void aLaterOverlayIsWhatQemuImgWouldHaveMadeAndPrivate() throws Exception {
        var overlays = new Overlays();
        overlays.create("test", dir.resolve("first.qcow2"), base.toString(), true, 16 << 20);
        Path second = dir.resolve("second.qcow2");
        overlays.create("test", second, base.toString(), true, 16 << 20);

        Path reference = dir.resolve("reference.qcow2");
        qemuImg("create", "-q", "-f", "qcow2", "-F", "raw", "-b", base.toString(), reference.toString(),
                Long.toString(16 << 20));
        assertThat(Files.readAllBytes(second)).isEqualTo(Files.readAllBytes(reference));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(second))).isEqualTo("rw-------");
        assertThat(qemuImg("check", second.toString())).contains("No errors were found");
    }

    @Test
    void eachBackingFileAndSizeHasItsOwnTemplate() throws Exception {
        var overlays = new Overlays();
        overlays.create("test", dir.resolve("a.qcow2"), base.toString(), true, 16 << 20);
        Path larger = dir.resolve("b.qcow2");
        overlays.create("test", larger, base.toString(), true, 32 << 20);
        Path jailed = dir.resolve("c.qcow2");
        overlays.create("test", jailed, "/base.raw", false, 16 << 20);

        assertThat(qemuImg("info", "-U", larger.toString())).contains("virtual size: 32 MiB", "backing file: " + base);
        assertThat(new String(Files.readAllBytes(jailed), StandardCharsets.ISO_8859_1)).contains("/base.raw");
    }

    @Test
    void aMissingBackingFileFailsNamingTheAction() {
        var overlays = new Overlays();
        assertThatThrownBy(() -> overlays.create("start machine m1", dir.resolve("x.qcow2"),
                dir.resolve("absent.raw").toString(), true, 16 << 20))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("start machine m1: create overlay: qemu-img exited with");
    }

    @Test
    void anOverlayOnAFullDiskFailsAndLeavesNoPartialFileWhetherQemuImgOrTheTemplateWritesIt() throws Exception {
        var overlays = new Overlays();
        try (SmallDisk disk = SmallDisk.mount(64 * 1024)) { // an empty qcow2 overlay takes about 200 KiB
            Path made = disk.path().resolve("made.qcow2");
            assertThatThrownBy(() -> overlays.create("start machine m1", made, base.toString(), true, 16 << 20))
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("start machine m1: create overlay: qemu-img exited with");
            overlays.create("test", dir.resolve("template.qcow2"), base.toString(), true, 16 << 20);
            Path copied = disk.path().resolve("copied.qcow2");
            assertThatThrownBy(() -> overlays.create("start machine m2", copied, base.toString(), true, 16 << 20))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("No space left on device");
            try (var left = Files.list(disk.path())) {
                assertThat(left).as("partial overlays on the full disk").isEmpty();
            }
        }
    }

    private static String qemuImg(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("qemu-img"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}
