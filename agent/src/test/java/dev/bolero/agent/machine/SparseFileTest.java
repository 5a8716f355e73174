package dev.bolero.agent.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparseFileTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void a_sparse_files_data_regions_are_found_and_its_checksum_is_that_of_all_its_bytes() throws Exception {
        Path file = dir.resolve("ram");
        try (var raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(8L * MIB);
            byte[] page = new byte[4096];
            Arrays.fill(page, (byte) 7);
            raf.seek(0);
            raf.write(page);
            raf.seek(3L * MIB);
            raf.write(page);
            raf.write(page);
        }
        var regions = SparseFile.dataRegions(file);
        assertThat(regions).as("the holes between and after are not data").hasSize(2);
        assertThat(regions.getFirst().offset()).isZero();
        assertThat(regions.getLast().offset()).isLessThanOrEqualTo(3L * MIB);
        assertThat(regions.getLast().offset() + regions.getLast().length()).isBetween(3L * MIB + 8192, 4L * MIB);
        assertThat(SparseFile.dataBytes(file)).isBetween(3L * 4096, 2L * MIB);

        CRC32C sparse = new CRC32C();
        SparseFile.update(sparse, file);
        CRC32C whole = new CRC32C();
        whole.update(Files.readAllBytes(file));
        assertThat(sparse.getValue()).isEqualTo(whole.getValue());
    }

    @Test
    void a_file_without_holes_is_one_region_an_empty_one_none_and_a_missing_one_an_error() throws Exception {
        Path full = Files.write(dir.resolve("full"), new byte[1000]);
        assertThat(SparseFile.dataRegions(full)).containsExactly(new SparseFile.Region(0, 1000));
        assertThat(SparseFile.dataRegions(Files.createFile(dir.resolve("empty")))).isEmpty();
        assertThatThrownBy(() -> SparseFile.dataRegions(dir.resolve("missing"))).isInstanceOf(NoSuchFileException.class);
    }
}
