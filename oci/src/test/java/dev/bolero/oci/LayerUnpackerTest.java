package dev.bolero.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.core.Digest;
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

    /** Skips the test unless the temp directory (a disk directory, not a tmpfs) takes user xattrs. */
    void assumeUserXattrs() throws IOException {
        Path probe = Files.writeString(temp.resolve("probe"), "");
        var view = Files.getFileAttributeView(probe, java.nio.file.attribute.UserDefinedFileAttributeView.class);
        try {
            view.write("bolero", java.nio.ByteBuffer.wrap(new byte[] {1}));
        } catch (IOException | UnsupportedOperationException e) {
            Assumptions.abort("the temp file system " + Files.getFileStore(temp).type() + " does not support user xattrs: " + e);
        } finally {
            Files.delete(probe);
        }
    }

    @Test
    void extendedAttributesFromPaxHeadersAreApplied() throws Exception {
        assumeUserXattrs();
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

    // --- binary extended attributes ----------------------------------------------------------------------------

    /** vfs_cap_data revision 2, effective, permitting cap_setuid (7) and cap_net_bind_service (10): 0x80 is not UTF-8. */
    static final byte[] CAPABILITY = {0x01, 0x00, 0x00, 0x02, (byte) 0x80, 0x04, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    /** Not UTF-8, with a NUL, a newline and an '=' inside. */
    static final byte[] BLOB = {(byte) 0xff, (byte) 0xfe, 0x00, (byte) 0x80, 'a', '\n', '=', (byte) 0xc3};

    /** One PAX record, {@code LENGTH KEY=VALUE\n}, the length counting its own digits. */
    static byte[] paxRecord(String key, byte[] value) {
        byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
        int rest = 1 + keyBytes.length + 1 + value.length + 1;
        int length = rest + 1;
        while (length != rest + String.valueOf(length).length()) {
            length = rest + String.valueOf(length).length();
        }
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        record.writeBytes((length + " ").getBytes(StandardCharsets.US_ASCII));
        record.writeBytes(keyBytes);
        record.write('=');
        record.writeBytes(value);
        record.write('\n');
        return record.toByteArray();
    }

    /** A tar of raw PAX header entries (type {@code x} or {@code g}, content as given) each followed by a file. */
    static byte[] paxTar(Object... headerTypeContentAndFileName) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            for (int i = 0; i < headerTypeContentAndFileName.length; i += 3) {
                byte type = (Byte) headerTypeContentAndFileName[i];
                byte[] records = (byte[]) headerTypeContentAndFileName[i + 1];
                // the writer makes a global header of its own from an entry's map: write an 'x', patch it below
                TarArchiveEntry header = new TarArchiveEntry("PaxHeaders/" + (char) type + i, TarConstants.LF_PAX_EXTENDED_HEADER_LC, true);
                header.setSize(records.length);
                out.putArchiveEntry(header);
                out.write(records);
                out.closeArchiveEntry();
                TarArchiveEntry file = new TarArchiveEntry((String) headerTypeContentAndFileName[i + 2], TarConstants.LF_NORMAL, true);
                file.setMode(0755);
                file.setSize(2);
                out.putArchiveEntry(file);
                out.write("hi".getBytes(StandardCharsets.UTF_8));
                out.closeArchiveEntry();
            }
        }
        byte[] tar = bytes.toByteArray();
        for (int at = 0; at + 512 <= tar.length; at += 512) {
            if (new String(tar, at, 12, StandardCharsets.US_ASCII).equals("PaxHeaders/g")) {
                retype(tar, at, TarConstants.LF_PAX_GLOBAL_EXTENDED_HEADER);
            }
        }
        return tar;
    }

    /** Sets the type flag of the header block at {@code at} and its checksum. */
    static void retype(byte[] tar, int at, byte type) {
        tar[at + 156] = type;
        java.util.Arrays.fill(tar, at + 148, at + 156, (byte) ' ');
        int sum = 0;
        for (int i = at; i < at + 512; i++) {
            sum += tar[i] & 0xff;
        }
        byte[] checksum = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(checksum, 0, tar, at + 148, 8);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            all.writeBytes(part);
        }
        return all.toByteArray();
    }

    /** lgetxattr(2) through the FFM API; fails the test if the attribute is missing. */
    static byte[] lgetxattr(Path path, String name) throws Throwable {
        java.lang.foreign.Linker linker = java.lang.foreign.Linker.nativeLinker();
        java.lang.invoke.MethodHandle lgetxattr = linker.downcallHandle(linker.defaultLookup().find("lgetxattr").orElseThrow(),
                java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_LONG, java.lang.foreign.ValueLayout.ADDRESS,
                        java.lang.foreign.ValueLayout.ADDRESS, java.lang.foreign.ValueLayout.ADDRESS, java.lang.foreign.ValueLayout.JAVA_LONG));
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment buffer = arena.allocate(4096);
            long size = (long) lgetxattr.invokeExact(arena.allocateFrom(path.toString()), arena.allocateFrom(name), buffer, 4096L);
            assertThat(size).as("lgetxattr %s %s", path, name).isNotNegative();
            return buffer.asSlice(0, size).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }

    @Test
    void binaryUserAttributesAreAppliedByteExact() throws Throwable {
        assumeUserXattrs();
        byte[] records = concat(paxRecord("SCHILY.xattr.user.blob", BLOB),
                paxRecord("LIBARCHIVE.xattr.user.b%3Dase", java.util.Base64.getEncoder().withoutPadding().encodeToString(BLOB)
                        .getBytes(StandardCharsets.US_ASCII)),
                paxRecord("SCHILY.xattr.user.text", "ünïcode".getBytes(StandardCharsets.UTF_8)));

        apply(paxTar(TarConstants.LF_PAX_EXTENDED_HEADER_LC, records, "bin/tool"));

        Path tool = root.resolve("bin/tool");
        assertThat(lgetxattr(tool, "user.blob")).containsExactly(BLOB);
        assertThat(lgetxattr(tool, "user.b=ase")).containsExactly(BLOB);
        assertThat(new String(lgetxattr(tool, "user.text"), StandardCharsets.UTF_8)).isEqualTo("ünïcode");
        assertThat(Files.readString(tool)).isEqualTo("hi");
    }

    @Test
    void binaryAttributesWrittenByGnuTarSurviveTheRoundTrip() throws Throwable {
        assumeUserXattrs();
        Path source = Files.createDirectory(temp.resolve("source"));
        Path file = Files.writeString(source.resolve("data"), "hi");
        assertThat(Posix.lsetxattr(file, "user.blob", BLOB)).isZero();
        Path layer = temp.resolve("layer.tar");
        Process tar;
        try {
            tar = new ProcessBuilder("tar", "--xattrs", "--xattrs-include=*", "--format=posix", "-cf", layer.toString(),
                    "-C", source.toString(), "data").redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("GNU tar is not installed: " + e);
            return;
        }
        String output = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(tar.waitFor()).as("tar: %s", output).isZero();
        Files.delete(file);
        Files.delete(source);

        apply(Files.readAllBytes(layer));
        Files.delete(layer);

        assertThat(lgetxattr(root.resolve("data"), "user.blob")).containsExactly(BLOB);
    }

    @Test
    void fileCapabilitiesAreAppliedByteExact() throws Throwable {
        Assumptions.assumeTrue(LayerUnpacker.runningAsRoot(), "setting security.capability needs root (CAP_SETFCAP)");
        Path probe = Files.writeString(temp.resolve("probe"), "");
        Assumptions.assumeTrue(Posix.lsetxattr(probe, "security.capability", CAPABILITY) == 0,
                "the temp file system " + Files.getFileStore(temp).type() + " does not take file capabilities");
        Files.delete(probe);

        apply(paxTar(TarConstants.LF_PAX_EXTENDED_HEADER_LC, paxRecord("SCHILY.xattr.security.capability", CAPABILITY), "bin/ping"));

        assertThat(lgetxattr(root.resolve("bin/ping"), "security.capability")).containsExactly(CAPABILITY);
        assertThat(mode(root.resolve("bin/ping")) & 07777).isEqualTo(0755);
    }

    @Test
    void globalPaxHeadersApplyToLaterEntriesUnlessAnEntryRemovesThem() throws Throwable {
        assumeUserXattrs();
        byte[] layer = concat(paxTar(TarConstants.LF_PAX_GLOBAL_EXTENDED_HEADER, paxRecord("SCHILY.xattr.user.all", BLOB), "a"));
        byte[] rest = paxTar(TarConstants.LF_PAX_EXTENDED_HEADER_LC, paxRecord("SCHILY.xattr.user.all", new byte[0]), "b");
        // one archive: the first tar without its end-of-archive blocks, then the second
        layer = concat(java.util.Arrays.copyOf(layer, endOfEntries(layer)), rest);

        apply(layer);

        assertThat(lgetxattr(root.resolve("a"), "user.all")).containsExactly(BLOB);
        var view = Files.getFileAttributeView(root.resolve("b"), java.nio.file.attribute.UserDefinedFileAttributeView.class);
        assertThat(view.list()).doesNotContain("all");
    }

    /** Where the two zero blocks that end a tar start. */
    static int endOfEntries(byte[] tar) {
        for (int at = 0; at + 1024 <= tar.length; at += 512) {
            boolean zero = true;
            for (int i = at; i < at + 1024 && zero; i++) {
                zero = tar[i] == 0;
            }
            if (zero) {
                return at;
            }
        }
        throw new IllegalArgumentException("no end of archive");
    }

    @Test
    void aMalformedPaxRecordFailsTheLayer() {
        byte[] records = "99 SCHILY.xattr.user.x=y\n".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> apply(paxTar(TarConstants.LF_PAX_EXTENDED_HEADER_LC, records, "f")))
                .isInstanceOf(IOException.class).hasMessageContaining("Pax");
        assertThatThrownBy(() -> PaxTarInputStream.parse("12 nokeyval\n".getBytes(StandardCharsets.US_ASCII), java.util.Map.of()))
                .hasMessageContaining("no KEY=VALUE");
    }
}
