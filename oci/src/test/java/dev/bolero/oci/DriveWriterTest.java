package dev.bolero.oci;

import static dev.bolero.oci.LayerUnpackerTest.BLOB;
import static dev.bolero.oci.LayerUnpackerTest.CAPABILITY;
import static dev.bolero.oci.LayerUnpackerTest.E;
import static dev.bolero.oci.LayerUnpackerTest.concat;
import static dev.bolero.oci.LayerUnpackerTest.paxRecord;
import static dev.bolero.oci.LayerUnpackerTest.paxTar;
import static dev.bolero.oci.LayerUnpackerTest.tar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.ZstdOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ext4 writer against the real tools: every drive passes {@code e2fsck -fn}, and mounted read-only its tree equals
 * the tree {@link LayerUnpacker} makes of the same layers; failures are the same failures.
 */
class DriveWriterTest {
    @TempDir
    Path temp;

    @BeforeEach
    void needsRootAndLoopMounts() {
        DriveCheck.assumeRootWithLoopMounts();
    }

    /** Builds the drive, checks it with e2fsck, and asserts its tree is what the unpacker makes; returns the tree. */
    Map<String, String> assertSameAsUnpacked(byte[]... layers) throws Exception {
        Path tree = DriveCheck.unpack(temp, layers);
        Path drive = DriveCheck.build(Files.createTempDirectory(temp, "drive").resolve("rootfs.ext4"), 1 << 20, layers);
        DriveCheck.assertClean(drive);
        Map<String, String> expected = DriveCheck.describe(tree);
        Map<String, String> actual = DriveCheck.mounted(drive, temp, DriveCheck::describe);
        DriveCheck.assertSameTree(actual, expected);
        return actual;
    }

    void assertBothFail(String message, byte[]... layers) throws Exception {
        assertThatThrownBy(() -> DriveCheck.unpack(temp, layers)).isInstanceOf(PullException.class).hasMessage(message);
        assertThatThrownBy(() -> DriveCheck.build(Files.createTempDirectory(temp, "drive").resolve("rootfs.ext4"), 0, layers))
                .isInstanceOf(PullException.class).hasMessage(message);
    }

    @Test
    void filesDirectoriesModesOwnersAndTimes() throws Exception {
        Map<String, String> tree = assertSameAsUnpacked(tar(E.dir("./usr/"), E.dir("usr/bin/"), E.file("usr/bin/tool", "#!/bin/sh\n").mode(04755),
                E.dir("home/app/").mode(0700).owner(1000), E.file("home/app/notes", "hi").mode(0600).owner(70000),
                E.file("empty", ""), E.file("big", "x".repeat(70_000)).mode(0640)));
        assertThat(tree.get("home/app/notes")).startsWith("mode=100600 uid=70000 gid=70000 size=2");
    }

    @Test
    void symlinksFastAndSlowAndHardLinks() throws Exception {
        assertSameAsUnpacked(tar(E.file("bin/busybox", "elf"), E.symlink("bin/sh", "/bin/busybox"), E.symlink("etc/shadow", "/etc/passwd"),
                E.symlink("long", "/" + "x".repeat(59)), E.symlink("longer", "/" + "y".repeat(300)), E.symlink("dangling", "../../nowhere"),
                E.hardlink("bin/ls", "bin/busybox"), E.hardlink("bin/cat", "bin/ls"), E.hardlink("lnk", "bin/sh")));
    }

    @Test
    void whiteoutsOpaqueDirectoriesAndReplacements() throws Exception {
        assertSameAsUnpacked(tar(E.file("a/x", "x"), E.file("a/y", "y"), E.file("b/z", "z"), E.symlink("c", "/nowhere"),
                        E.file("d/old", "old"), E.file("d/sub/deep", "deep"), E.file("e/kept", "kept"), E.file("f", "file"), E.dir("g/"),
                        E.file("g/inside", "in"), E.file("h/linked", "shared"), E.hardlink("h2", "h/linked")),
                tar(E.file("a/.wh.x", ""), E.file(".wh.b", ""), E.file(".wh.c", ""), E.file("a/.wh.never-existed", ""),
                        E.dir("d/"), E.file("d/before", "before"), E.file("d/.wh..wh..opq", ""), E.file("d/after", "after"),
                        E.dir("f/"), E.file("g", "now a file"), E.file(".wh.h", ""), E.file("a/y", "y again").mode(0600)),
                tar(E.file("a/.wh.y", ""), E.file("a/y", "made in the same layer"), E.file("e/.wh.kept", ""), E.dir("e/").mode(0711)));
    }

    @Test
    void fifosDevicesAndExtendedAttributes() throws Exception {
        TarArchiveEntry fifo = new TarArchiveEntry("run/pipe", TarConstants.LF_FIFO, true);
        TarArchiveEntry nul = new TarArchiveEntry("dev/null", TarConstants.LF_CHR, true);
        nul.setDevMajor(1);
        nul.setDevMinor(3);
        nul.setMode(0666);
        TarArchiveEntry disk = new TarArchiveEntry("dev/big", TarConstants.LF_BLK, true);
        disk.setDevMajor(259);
        disk.setDevMinor(70000);
        disk.setMode(0660);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            out.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            for (TarArchiveEntry entry : List.of(fifo, nul, disk)) {
                out.putArchiveEntry(entry);
                out.closeArchiveEntry();
            }
        }
        byte[] xattrs = paxTar((byte) 'x', concat(paxRecord("SCHILY.xattr.security.capability", CAPABILITY),
                        paxRecord("SCHILY.xattr.user.blob", BLOB), paxRecord("SCHILY.xattr.trusted.t", new byte[0])), "bin/ping",
                (byte) 'x', paxRecord("SCHILY.xattr.user.other", "v".repeat(300).getBytes()), "bin/other");
        Map<String, String> tree = assertSameAsUnpacked(bytes.toByteArray(), xattrs);
        assertThat(tree.get("bin/ping")).contains("security.capability=" + java.util.HexFormat.of().formatHex(CAPABILITY));
    }

    @Test
    void readsCompressedLayers() throws Exception {
        byte[] plain = tar(E.file("hello", "world"));
        Path drive = Files.createTempDirectory(temp, "drive").resolve("rootfs.ext4");
        try (DriveWriter writer = new DriveWriter(drive, ImageLimits.defaults(), StoreBudget.unlimited().claim("the root drive"))) {
            assertThat(writer.apply(new ByteArrayInputStream(LayerUnpackerTest.compress(plain, GZIPOutputStream::new)))).isEqualTo(Sha256.of(plain));
            assertThat(writer.apply(new ByteArrayInputStream(LayerUnpackerTest.compress(tar(E.file("zstd", "z")), ZstdOutputStream::new))))
                    .isEqualTo(Sha256.of(tar(E.file("zstd", "z"))));
            writer.finish(0);
        }
        DriveCheck.assertClean(drive);
        assertThat(DriveCheck.<String>mounted(drive, temp, root -> Files.readString(root.resolve("hello")) + Files.readString(root.resolve("zstd"))))
                .isEqualTo("worldz");
    }

    @Test
    void badLayersFailAsTheyDoWhenUnpacked() throws Exception {
        assertBothFail("entry ../outside/secret escapes the root", tar(E.file("ok", "fine"), E.file("../outside/secret", "pwned")));
        assertBothFail("entry /etc/passwd has an absolute path, which escapes the root", tar(E.file("/etc/passwd", "pwned")));
        assertBothFail("entry escape/secret passes through the symlink escape, which is not allowed",
                tar(E.symlink("escape", "../outside"), E.file("escape/secret", "pwned")));
        assertBothFail("entry etc/.wh.secret passes through the symlink etc, which is not allowed",
                tar(E.symlink("etc", "/etc")), tar(E.file("etc/.wh.secret", "")));
        assertBothFail("entry h is a hard link to ../outside/secret, outside the root", tar(E.hardlink("h", "../outside/secret")));
        assertBothFail("entry h is a hard link to missing, which does not exist", tar(E.hardlink("h", "missing")));
        assertBothFail("entry h passes through the symlink l, which is not allowed", tar(E.symlink("l", "/"), E.hardlink("h", "l/etc")));
        assertBothFail("entry h is a hard link to the directory d", tar(E.dir("d/"), E.hardlink("h", "d")));
        assertBothFail("entry a/.wh... is a whiteout of an invalid name", tar(E.file("a/.wh...", "")));
        assertBothFail("entry f/x: f is not a directory", tar(E.file("f", "file"), E.file("f/x", "x")));
    }

    /** A layer with one file of {@code size} zero bytes, streamed (never held in memory). */
    static InputStream hugeLayer(String name, long size) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name, TarConstants.LF_NORMAL, true);
        entry.setSize(size);
        entry.setMode(0644);
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        TarArchiveOutputStream out = new TarArchiveOutputStream(header);
        out.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        out.putArchiveEntry(entry);
        out.flush();
        InputStream zeros = new InputStream() {
            long left = size + (512 - size % 512) % 512 + 1024;

            @Override
            public int read() {
                return left-- > 0 ? 0 : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left <= 0) {
                    return -1;
                }
                int n = (int) Math.min(len, left);
                java.util.Arrays.fill(b, off, off + n, (byte) 0);
                left -= n;
                return n;
            }
        };
        return new SequenceInputStream(new ByteArrayInputStream(header.toByteArray()), zeros);
    }

    @Test
    void aFileAcrossManyGroupsGetsAnExtentTreeAndTheDriveCanGrow() throws Exception {
        long size = 700L << 20; // more than 4 extents of 128 MiB: an index in the inode, a leaf block
        Path drive = DriveCheck.build(Files.createTempDirectory(temp, "drive").resolve("rootfs.ext4"), 0,
                hugeLayer("zeros", size), new ByteArrayInputStream(tar(E.file("after", "small"))));
        DriveCheck.assertClean(drive);
        assertThat(DriveCheck.<String>mounted(drive, temp, root -> Files.size(root.resolve("zeros")) + ":" + Files.readString(root.resolve("after"))))
                .isEqualTo(size + ":small");
        DriveCheck.Run resize = DriveCheck.run("resize2fs", drive.toString(), "2G");
        assertThat(resize.exit()).as(resize.output()).isZero();
        DriveCheck.assertClean(drive);
        assertThat(Files.size(drive)).isEqualTo(2L << 30);
    }

    @Test
    void aFileClaimingMoreThanADriveHoldsFailsAtOnce() {
        assertThatThrownBy(() -> DriveCheck.build(Files.createTempDirectory(temp, "drive").resolve("rootfs.ext4"), 0,
                hugeLayer("huge", 1L << 50))).isInstanceOf(PullException.class).hasMessageContaining("entry huge").hasMessageContaining("does not fit");
    }

    @Test
    void aTruncatedFileFailsTheLayer() throws Exception {
        byte[] layer = tar(E.file("cut", "x".repeat(10_000)));
        byte[] truncated = java.util.Arrays.copyOf(layer, 512 + 4096);
        assertThatThrownBy(() -> DriveCheck.build(Files.createTempDirectory(temp, "drive").resolve("rootfs.ext4"), 0, truncated))
                .isInstanceOf(PullException.class).hasMessageContaining("entry cut");
    }
}
