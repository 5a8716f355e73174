package dev.bolero.oci;

import dev.bolero.core.FileTrees;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.lifecycle.BeforeTry;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Random layer stacks (directories, files of many sizes, fast and slow symlinks, hard links, whiteouts, opaque
 * directories, FIFOs, extended attributes, long names, deep paths, many small files, names reused across layers so
 * that entries replace and hide each other) give the same outcome through {@link DriveWriter} as through
 * {@link LayerUnpacker}: both fail, or the drive passes {@code e2fsck -fn} and mounted holds the unpacked tree.
 */
class DriveWriterPropertiesTest {
    private static final List<String> NAMES = List.of("a", "b", "a/b", "a/c", "a/b/c", "d/e/f", "d", "d/e", "x".repeat(255),
            "a/" + "y".repeat(200), "p/q/r/s/t/u/v/w/x/y/z/1/2/3/4/5/6/7/8/9/deep", "p/q/r", "ünï");

    /** One entry kind of a generated layer. */
    enum Kind { DIR, FILE, SYMLINK, HARDLINK, WHITEOUT, OPAQUE, FIFO, XATTR_FILE, MANY_FILES }

    record Op(Kind kind, String name, String other, int size, int mode, int owner) {}

    @Provide
    Arbitrary<List<List<Op>>> stacks() {
        Arbitrary<Op> op = Combinators.combine(
                Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(3, Arbitraries.just(Kind.DIR)), net.jqwik.api.Tuple.of(6, Arbitraries.just(Kind.FILE)),
                        net.jqwik.api.Tuple.of(2, Arbitraries.just(Kind.SYMLINK)), net.jqwik.api.Tuple.of(2, Arbitraries.just(Kind.HARDLINK)),
                        net.jqwik.api.Tuple.of(2, Arbitraries.just(Kind.WHITEOUT)), net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.OPAQUE)),
                        net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.FIFO)), net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.XATTR_FILE)),
                        net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.MANY_FILES))),
                Arbitraries.of(NAMES), Arbitraries.of(NAMES),
                Arbitraries.of(0, 1, 100, 4095, 4096, 5000, 70_000, 300_000, 3_000_000),
                Arbitraries.of(0755, 0644, 0600, 04755, 01777, 0700), Arbitraries.of(0, 1000, 65534, 100_000))
                .as(Op::new);
        return op.list().ofMinSize(1).ofMaxSize(14).list().ofMinSize(1).ofMaxSize(4);
    }

    Path temp;

    @BeforeContainer
    static void needsRootAndLoopMounts() {
        DriveCheck.assumeRootWithLoopMounts();
    }

    @BeforeTry
    void newTemp() throws IOException {
        temp = Files.createTempDirectory("drive-properties");
    }

    @Property(tries = 100)
    void aDriveHoldsWhatUnpackingMakes(@ForAll("stacks") List<List<Op>> stack) throws Exception {
        try {
            byte[][] layers = new byte[stack.size()][];
            for (int i = 0; i < stack.size(); i++) {
                layers[i] = layer(stack.get(i), i);
            }
            Path tree = null;
            PullException unpackFailure = null;
            try {
                tree = DriveCheck.unpack(temp, layers);
            } catch (PullException e) {
                unpackFailure = e;
            }
            Path drive = Files.createTempDirectory(temp, "drive").resolve("rootfs.ext4");
            PullException writeFailure = null;
            try {
                DriveCheck.build(drive, 1 << 20, layers);
            } catch (PullException e) {
                writeFailure = e;
            }
            Statistics.label("outcome").collect(unpackFailure == null ? "drive compared" : "both failed");
            if (unpackFailure != null || writeFailure != null) {
                assertThat(writeFailure).as("unpacking failed with %s", unpackFailure).isNotNull();
                assertThat(unpackFailure).as("writing failed with %s", writeFailure).isNotNull();
                return;
            }
            DriveCheck.assertClean(drive);
            Map<String, String> expected = DriveCheck.describe(tree);
            DriveCheck.assertSameTree(DriveCheck.mounted(drive, temp, DriveCheck::describe), expected);
        } finally {
            FileTrees.delete(temp);
        }
    }

    /** The tar of one generated layer. */
    static byte[] layer(List<Op> ops, int index) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Random random = new Random(ops.hashCode());
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            out.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            for (Op op : ops) {
                switch (op.kind()) {
                    case DIR -> put(out, entry(op.name() + "/", TarConstants.LF_DIR, op), null);
                    case FILE, XATTR_FILE -> {
                        TarArchiveEntry file = entry(op.name(), TarConstants.LF_NORMAL, op);
                        if (op.kind() == Kind.XATTR_FILE) {
                            file.addPaxHeader("SCHILY.xattr.user.layer", "layer " + index);
                            file.addPaxHeader("SCHILY.xattr.security.capability",
                                    new String(LayerUnpackerTest.CAPABILITY, StandardCharsets.ISO_8859_1));
                        }
                        put(out, file, content(op.size(), random));
                    }
                    case SYMLINK -> {
                        TarArchiveEntry link = entry(op.name(), TarConstants.LF_SYMLINK, op);
                        link.setLinkName(op.size() > 5000 ? "/" + op.other().repeat(3) : op.other());
                        put(out, link, null);
                    }
                    case HARDLINK -> {
                        TarArchiveEntry link = entry(op.name(), TarConstants.LF_LINK, op);
                        link.setLinkName(op.other());
                        put(out, link, null);
                    }
                    case WHITEOUT -> put(out, entry(parentOf(op.name()) + ".wh." + baseOf(op.name()), TarConstants.LF_NORMAL, op), new byte[0]);
                    case OPAQUE -> put(out, entry(op.name() + "/.wh..wh..opq", TarConstants.LF_NORMAL, op), new byte[0]);
                    case FIFO -> put(out, entry(op.name(), TarConstants.LF_FIFO, op), null);
                    case MANY_FILES -> {
                        for (int i = 0; i < 300; i++) {
                            put(out, entry(op.name() + "/many/f" + i, TarConstants.LF_NORMAL, op), content(i % 7 == 0 ? 5000 : i, random));
                        }
                    }
                }
            }
        }
        return bytes.toByteArray();
    }

    private static String parentOf(String name) {
        int slash = name.lastIndexOf('/');
        return slash < 0 ? "" : name.substring(0, slash + 1);
    }

    private static String baseOf(String name) {
        return name.substring(name.lastIndexOf('/') + 1);
    }

    private static TarArchiveEntry entry(String name, byte type, Op op) {
        TarArchiveEntry entry = new TarArchiveEntry(name, type, true);
        entry.setMode(type == TarConstants.LF_SYMLINK ? 0777 : op.mode());
        entry.setUserId(op.owner());
        entry.setGroupId(op.owner() + 1);
        entry.setModTime(FileTime.from(Instant.ofEpochSecond(1_700_000_000L + op.size())));
        return entry;
    }

    /** Random bytes, or for big sizes mostly zeros with some data (sparse-ish). */
    private static byte[] content(int size, Random random) {
        byte[] data = new byte[size];
        if (size > 1_000_000) {
            for (int at = 0; at < size; at += 65536) {
                data[at] = (byte) random.nextInt();
            }
        } else {
            random.nextBytes(data);
        }
        return data;
    }

    private static void put(TarArchiveOutputStream out, TarArchiveEntry entry, byte[] content) throws IOException {
        if (content != null) {
            entry.setSize(content.length);
        }
        out.putArchiveEntry(entry);
        if (content != null) {
            out.write(content);
        }
        out.closeArchiveEntry();
    }
}
