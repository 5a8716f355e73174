package dev.bolero.agent.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.wire.NodeVolume;
import dev.bolero.api.wire.VolumeMoveOrder;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The block stream of a volume move, between two real {@link NodeVolumes} directories. */
class VolumeBlocksTest {
    private static final long SIZE = 64L << 20;

    @TempDir
    Path dir;

    @Test
    void aMoveCopiesTheDataKeepsHolesSendsOnlyChangedBlocksInTheFinalPassAndVerifies() throws Exception {
        Path source = dir.resolve("a");
        Path target = dir.resolve("b");
        Path file = sparseVolume(source, "vol_1");
        write(file, 0, 3 << 20, 1);
        write(file, 40L << 20, 100_000, 2);
        var a = new NodeVolumes(source);
        var b = new NodeVolumes(target);

        var first = pass(a, b, 1);
        assertThat(first.dataBlocks()).isEqualTo(4);
        assertThat(first.bytes()).isEqualTo((3 << 20) + VolumeBlocks.BLOCK);
        Path incoming = target.resolve("vol_1.incoming");
        assertThat(Files.size(incoming)).isEqualTo(SIZE);
        assertThat(Files.getPosixFilePermissions(incoming)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(allocated(incoming)).as("holes stay holes").isLessThan(8L << 20);

        write(file, 10L << 20, 10, 3);           // a block written after pass 1
        write(file, 0, VolumeBlocks.BLOCK, 0);   // a block zeroed after pass 1
        var last = pass(a, b, 2);
        assertThat(last.dataBlocks()).as("only the changed block's data").isEqualTo(1);
        assertThat(last.zeroBlocks()).as("the zeroed block as a header").isEqualTo(1);
        assertThat(sha256(incoming)).isEqualTo(sha256(file));

        String copied = sha256(incoming);
        b.apply(List.of(new NodeVolume("vol_1", "alpha", "data", 1, null, List.of())), List.of());
        Path moved = target.resolve("vol_1.ext4");
        assertThat(moved).as("the verified copy became the volume's file").exists();
        assertThat(incoming).doesNotExist();
        assertThat(sha256(moved, SIZE)).isEqualTo(copied);
    }

    @Test
    void aCopyThatDoesNotMatchIsRemovedAndAnEndedMoveLeavesNoFile() throws Exception {
        Path source = dir.resolve("a");
        Path target = dir.resolve("b");
        Path file = sparseVolume(source, "vol_2");
        write(file, 5L << 20, 5000, 7);
        var out = new ByteArrayOutputStream();
        new NodeVolumes(source).send("vol_2", "mov_x", 1, out);
        byte[] stream = out.toByteArray();
        stream[stream.length - 1] ^= 1; // the digest
        var b = new NodeVolumes(target);
        var order = new VolumeMoveOrder("mov_x", "vol_2", 1);
        assertThatThrownBy(() -> b.receive(order, new ByteArrayInputStream(stream)))
                .hasMessageContaining("verify volume copy");
        assertThat(target.resolve("vol_2.incoming")).doesNotExist();

        byte[] cut = java.util.Arrays.copyOf(out.toByteArray(), 3000);
        assertThatThrownBy(() -> b.receive(order, new ByteArrayInputStream(cut)))
                .hasMessageContaining("ended before its digest");
        assertThat(target.resolve("vol_2.incoming")).doesNotExist();

        b.receive(order, new ByteArrayInputStream(out.toByteArray()));
        b.apply(List.of(), List.of(order));
        assertThat(target.resolve("vol_2.incoming")).as("kept while the move runs").exists();
        b.apply(List.of(), List.of());
        try (var left = Files.list(target)) {
            assertThat(left).as("files left by a move that ended otherwise").isEmpty();
        }
    }

    private static VolumeBlocks.Pass pass(NodeVolumes from, NodeVolumes to, int pass) throws IOException {
        var out = new ByteArrayOutputStream();
        VolumeBlocks.Pass sent = from.send("vol_1", "mov_1", pass, out);
        VolumeBlocks.Pass received = to.receive(new VolumeMoveOrder("mov_1", "vol_1", pass),
                new ByteArrayInputStream(out.toByteArray()));
        assertThat(received.digest()).isEqualTo(sent.digest());
        assertThat(received.blocks()).isEqualTo(sent.blocks());
        return sent;
    }

    /** A new sparse volume file of {@link #SIZE} bytes in {@code dir}. */
    private static Path sparseVolume(Path dir, String id) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(id + ".ext4");
        try (var raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(SIZE);
        }
        return file;
    }

    private static void write(Path file, long at, int length, int seed) throws IOException {
        byte[] bytes = new byte[length];
        if (seed != 0) new Random(seed).nextBytes(bytes);
        try (var raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(at);
            raf.write(bytes);
        }
    }

    private static String sha256(Path file) throws Exception {
        return sha256(file, Files.size(file));
    }

    /** The SHA-256 of the first {@code limit} bytes of {@code file}. */
    private static String sha256(Path file, long limit) throws Exception {
        var md = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (long left = limit; left > 0; ) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) break;
                md.update(buffer, 0, n);
                left -= n;
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static long allocated(Path file) throws Exception {
        var du = new ProcessBuilder("du", "-B1", file.toString()).redirectErrorStream(true).start();
        String out = new String(du.getInputStream().readAllBytes()).strip();
        assertThat(du.waitFor()).as(out).isZero();
        return Long.parseLong(out.split("\\s+")[0]);
    }
}
