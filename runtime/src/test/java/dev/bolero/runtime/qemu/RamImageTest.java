package dev.bolero.runtime.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.runtime.VmmException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RAM image a suspend or fork saves and a resume restores, with regular files standing in for QEMU's memfd
 * (which reads and writes alike).
 */
class RamImageTest {
    private static final int PAGE = 4096;
    private static final int PAGES = 64;

    @TempDir
    Path dir;

    @Test
    void pages_of_data_are_saved_as_extents_of_a_sparse_file_and_restored_at_their_offsets() throws Exception {
        Path ram = ram("ram", 0, 1, 2, 10, 63);
        Path snapshot = Files.createDirectory(dir.resolve("snapshot"));

        RamImage.save(ram, snapshot);

        Path file = snapshot.resolve(RamImage.FILE);
        assertThat(Files.size(file)).isEqualTo((long) PAGES * PAGE);
        assertThat(Files.readString(snapshot.resolve(RamImage.EXTENTS)))
                .isEqualTo("0 12288\n40960 4096\n258048 4096\n");
        for (String name : new String[] {RamImage.FILE, RamImage.EXTENTS}) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(snapshot.resolve(name))))
                    .isEqualTo("rw-------");
        }
        Path restored = ram("restored");
        RamImage.restore(snapshot, restored);
        assertThat(Files.readAllBytes(restored)).isEqualTo(Files.readAllBytes(ram));
    }

    @Test
    void an_image_that_does_not_fit_the_vm_or_whose_extents_are_damaged_is_refused_naming_why() throws Exception {
        Path snapshot = Files.createDirectory(dir.resolve("snapshot"));
        RamImage.save(ram("ram", 3), snapshot);
        Path extents = snapshot.resolve(RamImage.EXTENTS);

        try (var smaller = new RandomAccessFile(dir.resolve("small").toFile(), "rw")) {
            smaller.setLength(PAGE);
        }
        assertThatThrownBy(() -> RamImage.restore(snapshot, dir.resolve("small"))).isInstanceOf(VmmException.class)
                .hasMessageContaining("the VM has 4096 bytes of RAM, the image 262144");
        Files.writeString(extents, "258048 8192\n");
        assertThatThrownBy(() -> RamImage.restore(snapshot, ram("a"))).isInstanceOf(VmmException.class)
                .hasMessageContaining("extent 258048+8192 is out of order or outside the 262144 bytes");
        Files.writeString(extents, "8192 4096\n0 4096\n");
        assertThatThrownBy(() -> RamImage.restore(snapshot, ram("b"))).isInstanceOf(VmmException.class)
                .hasMessageContaining("extent 0+4096 is out of order");
        Files.writeString(extents, "12288 x\n");
        assertThatThrownBy(() -> RamImage.restore(snapshot, ram("c"))).isInstanceOf(VmmException.class)
                .hasMessageContaining("bad line '12288 x'");
        Files.delete(extents);
        assertThatThrownBy(() -> RamImage.restore(snapshot, ram("d"))).isInstanceOf(VmmException.class)
                .hasMessageContaining(RamImage.EXTENTS);
    }

    /** A RAM file of {@link #PAGES} pages, zeros but for {@code pages}, each filled with its number plus one. */
    private Path ram(String name, int... pages) throws Exception {
        Path file = dir.resolve(name);
        try (var raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength((long) PAGES * PAGE);
            for (int page : pages) {
                byte[] data = new byte[PAGE];
                Arrays.fill(data, (byte) (page + 1));
                raf.seek((long) page * PAGE);
                raf.write(data);
            }
        }
        return file;
    }
}
