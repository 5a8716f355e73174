package dev.bolero.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.ZstdOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerUnpackerTest {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    private static final Instant MTIME = Instant.parse("2024-05-06T07:08:09Z");

    @TempDir
    Path temp;
    Path root;
    Path outside;

    @BeforeEach
    void createRootAndSomethingOutsideIt() throws IOException {
        root = Files.createDirectory(temp.resolve("root"));
        outside = Files.createDirectory(temp.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "keep");
    }

    // --- building layers ---------------------------------------------------------------------------------------

    /** One tar entry; content only for regular files. */
    record E(String name, byte type, String linkName, String content, int mode, long uid) {
        static E dir(String name) {
            return new E(name, TarConstants.LF_DIR, "", "", 0755, 0);
        }

        static E file(String name, String content) {
            return new E(name, TarConstants.LF_NORMAL, "", content, 0644, 0);
        }

        static E symlink(String name, String target) {
            return new E(name, TarConstants.LF_SYMLINK, target, "", 0777, 0);
        }

        static E hardlink(String name, String target) {
            return new E(name, TarConstants.LF_LINK, target, "", 0644, 0);
        }

        E mode(int newMode) {
            return new E(name, type, linkName, content, newMode, uid);
        }

        E owner(long newUid) {
            return new E(name, type, linkName, content, mode, newUid);
        }
    }

    static byte[] tar(E... entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (E e : entries) {
                TarArchiveEntry entry = new TarArchiveEntry(e.name(), e.type(), true);
                byte[] content = e.content().getBytes(StandardCharsets.UTF_8);
                if (!e.linkName().isEmpty()) {
                    entry.setLinkName(e.linkName());
                }
                entry.setMode(e.mode());
                entry.setUserId(e.uid());
                entry.setGroupId(e.uid());
                entry.setModTime(FileTime.from(MTIME));
                if (e.type() == TarConstants.LF_NORMAL) {
                    entry.setSize(content.length);
                }
                out.putArchiveEntry(entry);
                if (e.type() == TarConstants.LF_NORMAL) {
                    out.write(content);
                }
                out.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    interface Compressor {
        OutputStream wrap(OutputStream out) throws IOException;
    }

    static byte[] compress(byte[] tar, Compressor compressor) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = compressor.wrap(bytes)) {
            out.write(tar);
        }
        return bytes.toByteArray();
    }

    void apply(byte[]... layers) throws PullException, IOException {
        LayerUnpacker unpacker = new LayerUnpacker(root, LayerUnpacker.runningAsRoot());
        for (byte[] layer : layers) {
            unpacker.apply(new ByteArrayInputStream(layer), Optional.empty());
        }
    }

    void assertOutsideUntouched() throws IOException {
        try (Stream<Path> files = Files.walk(temp)) {
            assertThat(files.filter(p -> !p.startsWith(root))).containsExactlyInAnyOrder(temp, outside, outside.resolve("secret"));
        }
        assertThat(Files.readString(outside.resolve("secret"))).isEqualTo("keep");
    }

    int mode(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:mode", NOFOLLOW);
    }

    // --- what a layer may do -----------------------------------------------------------------------------------

    @Test
    void unpacksFilesDirectoriesModesOwnersAndTimes() throws Exception {
        apply(tar(E.dir("./usr/"), E.dir("usr/bin/"), E.file("usr/bin/tool", "#!/bin/sh\n").mode(04755),
                E.dir("home/app/").mode(0700).owner(1000), E.file("home/app/notes", "hi").mode(0600).owner(1000)));

        assertThat(Files.readString(root.resolve("usr/bin/tool"))).isEqualTo("#!/bin/sh\n");
        assertThat(mode(root.resolve("usr/bin/tool")) & 07777).isEqualTo(04755);
        assertThat(mode(root.resolve("home/app")) & 07777).isEqualTo(0700);
        assertThat(Files.getLastModifiedTime(root.resolve("usr/bin/tool")).toInstant()).isEqualTo(MTIME);
        assertThat(Files.getLastModifiedTime(root.resolve("usr/bin")).toInstant()).isEqualTo(MTIME);
        if (LayerUnpacker.runningAsRoot()) {
            assertThat(Files.getAttribute(root.resolve("home/app/notes"), "unix:uid")).isEqualTo(1000);
            assertThat(Files.getAttribute(root.resolve("home/app"), "unix:gid")).isEqualTo(1000);
        }
    }

    @Test
    void keepsSymlinksAsLinksAndMakesHardLinks() throws Exception {
        apply(tar(E.file("bin/busybox", "elf"), E.symlink("bin/sh", "/bin/busybox"), E.symlink("etc/shadow", "/etc/passwd"),
                E.hardlink("bin/ls", "bin/busybox")));

        assertThat(Files.readSymbolicLink(root.resolve("bin/sh"))).isEqualTo(Path.of("/bin/busybox"));
        assertThat(Files.readSymbolicLink(root.resolve("etc/shadow"))).isEqualTo(Path.of("/etc/passwd"));
        assertThat(Files.getAttribute(root.resolve("bin/ls"), "unix:ino")).isEqualTo(Files.getAttribute(root.resolve("bin/busybox"), "unix:ino"));
        assertThat(Files.getAttribute(root.resolve("bin/ls"), "unix:nlink")).isEqualTo(2);
    }

    @Test
    void aLaterLayerReplacesASymlinkInsteadOfWritingThroughIt() throws Exception {
        apply(tar(E.symlink("evil", outside.resolve("secret").toString())), tar(E.file("evil", "replaced")));

        assertThat(Files.isSymbolicLink(root.resolve("evil"))).isFalse();
        assertThat(Files.readString(root.resolve("evil"))).isEqualTo("replaced");
        assertOutsideUntouched();
    }

    @Test
    void whiteoutsHideWhatLowerLayersMade() throws Exception {
        apply(tar(E.file("a/x", "x"), E.file("a/y", "y"), E.file("b/z", "z"), E.symlink("c", "/nowhere")),
                tar(E.file("a/.wh.x", ""), E.file(".wh.b", ""), E.file(".wh.c", ""), E.file("a/.wh.never-existed", "")));

        assertThat(root.resolve("a/x")).doesNotExist();
        assertThat(root.resolve("a/y")).hasContent("y");
        assertThat(root.resolve("b")).doesNotExist();
        assertThat(Files.exists(root.resolve("c"), NOFOLLOW)).isFalse();
        assertThat(root.resolve("a/.wh.x")).doesNotExist();
    }

    @Test
    void anOpaqueDirectoryHidesLowerContentButKeepsItsOwnLayers() throws Exception {
        apply(tar(E.file("d/old", "old"), E.file("d/sub/deep", "deep"), E.file("e/kept", "kept")),
                tar(E.dir("d/"), E.file("d/before", "before"), E.file("d/.wh..wh..opq", ""), E.file("d/after", "after")));

        try (Stream<Path> children = Files.list(root.resolve("d"))) {
            assertThat(children.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("before", "after");
        }
        assertThat(root.resolve("e/kept")).hasContent("kept");
    }

    @Test
    void readsGzipZstdAndPlainLayersAndChecksTheDiffId() throws Exception {
        byte[] plain = tar(E.file("hello", "world"));
        Digest diffId = Sha256.of(plain);
        for (byte[] layer : List.of(plain, compress(plain, GZIPOutputStream::new), compress(plain, ZstdOutputStream::new))) {
            new LayerUnpacker(root, false).apply(new ByteArrayInputStream(layer), Optional.of(diffId));
            assertThat(root.resolve("hello")).hasContent("world");
            Files.delete(root.resolve("hello"));
        }
        Digest wrong = Sha256.of(new byte[0]);
        assertThatThrownBy(() -> new LayerUnpacker(root, false).apply(new ByteArrayInputStream(plain), Optional.of(wrong)))
                .hasMessage("uncompressed content has digest " + diffId + ", the image config says " + wrong);
    }

    @Test
    void makesFifosAndDeviceNodes() throws Exception {
        Assumptions.assumeTrue(LayerUnpacker.runningAsRoot(), "device nodes need root");
        TarArchiveEntry fifo = new TarArchiveEntry("run/pipe", TarConstants.LF_FIFO, true);
        TarArchiveEntry nul = new TarArchiveEntry("dev/null", TarConstants.LF_CHR, true);
        nul.setDevMajor(1);
        nul.setDevMinor(3);
        nul.setMode(0666);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            for (TarArchiveEntry entry : List.of(fifo, nul)) {
                out.putArchiveEntry(entry);
                out.closeArchiveEntry();
            }
        }
        apply(bytes.toByteArray());

        assertThat(mode(root.resolve("run/pipe")) & 0170000).isEqualTo(0010000);
        assertThat(mode(root.resolve("dev/null")) & 0170000).isEqualTo(0020000);
        assertThat(mode(root.resolve("dev/null")) & 07777).isEqualTo(0666);
        assertThat(Files.getAttribute(root.resolve("dev/null"), "unix:rdev")).isEqualTo(Posix.makedev(1, 3));
    }

    // --- what a layer must not do ------------------------------------------------------------------------------

    @Test
    void aDotDotEntryFailsTheLayer() throws Exception {
        assertThatThrownBy(() -> apply(tar(E.file("ok", "fine"), E.file("../outside/secret", "pwned"))))
                .isInstanceOf(PullException.class)
                .hasMessage("entry ../outside/secret escapes the root");
        assertThatThrownBy(() -> apply(tar(E.file("a/../../outside/new", "pwned"))))
                .hasMessage("entry a/../../outside/new escapes the root");
        assertOutsideUntouched();
    }

    @Test
    void anAbsoluteEntryFailsTheLayer() throws Exception {
        String absolute = outside.resolve("secret").toString();
        assertThatThrownBy(() -> apply(tar(E.file(absolute, "pwned"))))
                .hasMessage("entry " + absolute + " has an absolute path, which escapes the root");
        assertOutsideUntouched();
    }

    @Test
    void writingThroughASymlinkFailsTheLayer() throws Exception {
        assertThatThrownBy(() -> apply(tar(E.symlink("escape", "../outside"), E.file("escape/secret", "pwned"))))
                .hasMessage("entry escape/secret passes through the symlink escape, which is not allowed");
        assertThatThrownBy(() -> apply(tar(E.symlink("abs", outside.toString()), E.dir("abs/newdir/"))))
                .hasMessage("entry abs/newdir/ passes through the symlink abs, which is not allowed");
        assertOutsideUntouched();
    }

    @Test
    void aSymlinkFromALowerLayerCannotBeWrittenThroughEither() throws Exception {
        apply(tar(E.symlink("etc", outside.toString())));
        assertThatThrownBy(() -> apply(tar(E.file("etc/secret", "pwned"))))
                .hasMessage("entry etc/secret passes through the symlink etc, which is not allowed");
        assertThatThrownBy(() -> apply(tar(E.file("etc/.wh.secret", ""))))
                .hasMessage("entry etc/.wh.secret passes through the symlink etc, which is not allowed");
        assertThatThrownBy(() -> apply(tar(E.file("etc/.wh..wh..opq", ""))))
                .hasMessage("entry etc/.wh..wh..opq passes through the symlink etc, which is not allowed");
        assertOutsideUntouched();
    }

    @Test
    void aHardLinkToOutsideTheRootFailsTheLayer() throws Exception {
        assertThatThrownBy(() -> apply(tar(E.hardlink("h", "../outside/secret"))))
                .hasMessage("entry h is a hard link to ../outside/secret, outside the root");
        String absolute = outside.resolve("secret").toString();
        assertThatThrownBy(() -> apply(tar(E.hardlink("h", absolute))))
                .hasMessage("entry h is a hard link to " + absolute + ", outside the root");
        assertThatThrownBy(() -> apply(tar(E.symlink("l", outside.toString()), E.hardlink("h", "l/secret"))))
                .hasMessage("entry h passes through the symlink l, which is not allowed");
        assertThat(Files.exists(root.resolve("h"), NOFOLLOW)).isFalse();
        assertOutsideUntouched();
    }

    @Test
    void aWhiteoutCannotNameTheParentDirectory() throws Exception {
        assertThatThrownBy(() -> apply(tar(E.file("a/.wh...", ""))))
                .hasMessage("entry a/.wh... is a whiteout of an invalid name");
        assertOutsideUntouched();
    }

    @Test
    void extendedAttributesFromPaxHeadersAreApplied() throws Exception {
        Path probe = Files.writeString(temp.resolve("probe"), "");
        var view = Files.getFileAttributeView(probe, java.nio.file.attribute.UserDefinedFileAttributeView.class);
        try {
            view.write("bolero", java.nio.ByteBuffer.wrap(new byte[] {1}));
        } catch (IOException | UnsupportedOperationException e) {
            org.junit.jupiter.api.Assumptions.abort("the temp file system does not support user xattrs: " + e);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry entry = new TarArchiveEntry("labelled", TarConstants.LF_NORMAL, true);
            entry.addPaxHeader("SCHILY.xattr.user.origin", "layer-one");
            entry.setMode(0644);
            entry.setSize(2);
            out.putArchiveEntry(entry);
            out.write("hi".getBytes(StandardCharsets.UTF_8));
            out.closeArchiveEntry();
        }

        apply(bytes.toByteArray());

        var written = Files.getFileAttributeView(root.resolve("labelled"), java.nio.file.attribute.UserDefinedFileAttributeView.class);
        java.nio.ByteBuffer value = java.nio.ByteBuffer.allocate(64);
        written.read("origin", value);
        assertThat(new String(value.array(), 0, value.position(), StandardCharsets.UTF_8)).isEqualTo("layer-one");
        assertThat(Files.readString(root.resolve("labelled"))).isEqualTo("hi");
    }
}
