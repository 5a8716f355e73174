package dev.bolero.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScratchTest {
    @TempDir
    Path dataDir;

    @AfterEach
    void removeMemoryScratch() throws Exception {
        for (Path root : Scratch.of(dataDir).roots()) {
            Trees.delete(root);
        }
    }

    @Test
    void aTreeThatFitsGoesToAPrivateDirectoryOnTheMemoryFileSystem() throws Exception {
        Scratch scratch = Scratch.of(dataDir);
        assumeThat(scratch.roots()).as("/dev/shm is a tmpfs on this host").hasSize(2);

        Path work = scratch.create("unpack-", 1024 * 1024);

        assertThat(scratch.inMemory(work)).isTrue();
        assertThat(Files.getFileStore(work).type()).isEqualTo("tmpfs");
        assertThat(work.getParent()).isEqualTo(scratch.roots().get(1));
        assertThat(Files.getAttribute(work.getParent(), "unix:mode")).isEqualTo(040700);
        assertThat(Files.getAttribute(work, "unix:mode")).isEqualTo(040700);

        scratch.delete(work);
        assertThat(scratch.roots().get(1)).as("nothing left in /dev/shm").doesNotExist();
    }

    @Test
    void aTreeLargerThanTheFreeMemoryGoesToDisk() throws Exception {
        Path memory = dataDir.resolve("memory");
        Scratch scratch = new Scratch(dataDir.resolve("tmp"), Optional.of(memory));

        Path work = scratch.create("unpack-", Long.MAX_VALUE / 2);

        assertThat(scratch.inMemory(work)).isFalse();
        assertThat(work.getParent()).isEqualTo(dataDir.resolve("tmp"));
        assertThat(memory).doesNotExist();
    }

    @Test
    void aMemoryDirectoryOthersCanEnterIsNotUsed() throws Exception {
        Path memory = Files.createDirectory(dataDir.resolve("memory"));
        Files.setAttribute(memory, "unix:mode", 0777);
        Scratch scratch = new Scratch(dataDir.resolve("tmp"), Optional.of(memory));

        Path work = scratch.create("unpack-", 1024);

        assertThat(work.getParent()).isEqualTo(dataDir.resolve("tmp"));
        try (var entries = Files.list(memory)) {
            assertThat(entries).isEmpty();
        }
    }
}
