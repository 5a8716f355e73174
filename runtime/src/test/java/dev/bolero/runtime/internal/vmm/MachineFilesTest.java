package dev.bolero.runtime.internal.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.runtime.SmallDisk;
import dev.bolero.runtime.VmmException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MachineFilesTest {

    @TempDir Path dir;

    @Test
    void aBzImageIsRefusedWithAClearError() throws Exception {
        Path bzImage;
        try (var kernels = Files.list(Path.of("/boot"))) {
            bzImage = kernels.filter(p -> p.getFileName().toString().startsWith("vmlinuz-")).findFirst().orElse(null);
        }
        assumeTrue(bzImage != null && Files.isReadable(bzImage), "no readable /boot/vmlinuz-* (a bzImage) on this host");
        assertThatThrownBy(() -> MachineFiles.requireVmlinux("firecracker", bzImage))
                .isInstanceOf(VmmException.class)
                .hasMessage("firecracker needs an uncompressed vmlinux kernel, got a bzImage: " + bzImage);
    }

    @Test
    void anElfFileIsAccepted() throws Exception {
        MachineFiles.requireVmlinux("firecracker", Path.of("/bin/true"));
    }

    @Test
    void aFileThatIsNeitherIsRefused() throws Exception {
        Path text = Files.writeString(dir.resolve("notes"), "not a kernel");
        assertThatThrownBy(() -> MachineFiles.requireVmlinux("cloud-hypervisor", text))
                .hasMessage("cloud-hypervisor needs an uncompressed vmlinux kernel, got a file that is not ELF: " + text);
    }

    @Test
    void theRootDriveCopyIsPrivateAndSparse() throws Exception {
        Path base = dir.resolve("base.ext4");
        try (RandomAccessFile file = new RandomAccessFile(base.toFile(), "rw")) {
            file.setLength(64L << 20);
            file.write("superblock".getBytes());
        }
        Path copy = dir.resolve("rootfs.raw");
        MachineFiles.copyRootDrive(base, copy, 96L << 20);
        Files.writeString(copy, "changed", java.nio.file.StandardOpenOption.WRITE);
        assertThat(Files.size(copy)).as("grown to the machine's size").isEqualTo(96L << 20);
        assertThat(new String(Files.readAllBytes(base), 0, 10)).isEqualTo("superblock");
        long allocatedBlocks = Long.parseLong(new String(
                new ProcessBuilder("stat", "-c", "%b", copy.toString()).start().getInputStream().readAllBytes())
                .strip());
        assertThat(allocatedBlocks * 512).isLessThan(64L << 20);
    }

    @Test
    void aRootDriveCopyOntoAFullDiskFailsSayingSoAndLeavesNoPartialDrive() throws Exception {
        Path base = dir.resolve("base.ext4");
        byte[] data = new byte[1 << 20];
        new java.util.Random(18).nextBytes(data);
        try (RandomAccessFile file = new RandomAccessFile(base.toFile(), "rw")) {
            for (int i = 0; i < 4; i++) file.write(data); // 4 MiB of real data: no holes to skip
        }
        try (SmallDisk disk = SmallDisk.mount(1 << 20)) {
            Path copy = disk.path().resolve("rootfs.raw");
            assertThatThrownBy(() -> MachineFiles.copyRootDrive(base, copy, 8L << 20))
                    .isInstanceOf(VmmException.class)
                    .hasMessageStartingWith("copy root drive " + base + " to " + copy + ": the disk is full (No space left on device)");
            try (var left = Files.list(disk.path())) {
                assertThat(left).as("files left on the full disk").isEmpty();
            }
        }
    }

    @Test
    void aSocketPathTooLongForSunPathIsRefused() {
        Path longPath = dir.resolve("x".repeat(120));
        assertThatThrownBy(() -> MachineFiles.requireSocketPath("start machine m", longPath))
                .hasMessageStartingWith("start machine m: socket path longer than 107 bytes: ");
    }
}
