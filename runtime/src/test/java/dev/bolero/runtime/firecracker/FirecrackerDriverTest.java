package dev.bolero.runtime.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.KernelFlavour;
import dev.bolero.runtime.VmHandle;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.VmmException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The driver's checks and failure handling that need no Firecracker binary. */
class FirecrackerDriverTest {

    @TempDir Path dir;

    private VmSpec spec(Path kernel) throws Exception {
        Path drive = Files.write(dir.resolve("base.ext4"), new byte[4096]);
        Path initramfs = Files.write(dir.resolve("initramfs"), new byte[16]);
        return new VmSpec("m1", dir.resolve("m1"), 1, 128, new BootAssets(kernel, initramfs, List.of(), KernelFlavour.LEAN), drive,
                List.of(), Duration.ofSeconds(1));
    }

    @Test
    void capabilitiesDeclareVsockNoHotplugAndSnapshotsOnlyUnjailed() {
        var capabilities = new FirecrackerDriver(Optional.empty()).capabilities();
        assertThat(capabilities.accelerator()).isEqualTo("kvm");
        assertThat(capabilities.vsock()).isTrue();
        assertThat(capabilities.snapshot()).isTrue();
        assertThat(capabilities.hotplug()).isFalse();
        assertThat(new FirecrackerDriver(Optional.empty(), Optional.of(dev.bolero.runtime.JailConfig.defaults()))
                .capabilities().snapshot()).as("a jail's files go with its VMM").isFalse();
    }

    @Test
    void theGuestFindsAVolumeByTheIdFirecrackerMakesFromItsFileAsStatShowsItAndItsJailLinkShares() throws Exception {
        Path volume = Files.write(dir.resolve("vol.ext4"), new byte[4096]);
        var drive = new VmSpec.Drive(volume, "vol_1");
        String serial = new FirecrackerDriver(Optional.empty()).guestSerial(drive);
        // What Firecracker's block device computes: st_dev, st_rdev and st_ino in decimal, cut at 20 bytes.
        var stat = new ProcessBuilder("stat", "-c", "%d%r%i", volume.toString()).start();
        String expected = new String(stat.getInputStream().readAllBytes()).strip();
        assertThat(stat.waitFor()).isZero();
        assertThat(serial).isEqualTo(expected.length() > 20 ? expected.substring(0, 20) : expected)
                .matches("[0-9]{1,20}");
        Path link = Files.createLink(dir.resolve("drive-vol_1.raw"), volume);
        assertThat(new FirecrackerDriver(Optional.empty()).guestSerial(new VmSpec.Drive(link, "vol_1")))
                .as("the jail's hard link: the same device and inode").isEqualTo(serial);
        assertThatThrownBy(() -> new FirecrackerDriver(Optional.empty())
                .guestSerial(new VmSpec.Drive(dir.resolve("gone.ext4"), "gone")))
                .isInstanceOf(VmmException.class).hasMessageContaining("drive gone");
        assertThat(new dev.bolero.runtime.qemu.QemuDriver().guestSerial(drive)).as("QEMU passes the serial on")
                .isEqualTo("vol_1");
    }

    @Test
    void aNonElfKernelIsRefusedBeforeAnythingIsSpawned() throws Exception {
        Path notElf = Files.writeString(dir.resolve("kernel"), "MZ not a vmlinux");
        assertThatThrownBy(() -> new FirecrackerDriver(Optional.of(Path.of("/bin/false"))).start(spec(notElf)))
                .isInstanceOf(VmmException.class)
                .hasMessageContaining("firecracker needs an uncompressed vmlinux kernel");
        assertThat(dir.resolve("m1")).doesNotExist();
    }

    @Test
    void aVmmThatExitsAtOnceFailsTheStartWithItsOutput() throws Exception {
        Path fake = Files.writeString(dir.resolve("firecracker"), "#!/bin/sh\necho 'bad flag --api-sock'\nexit 1\n");
        fake.toFile().setExecutable(true);
        assertThatThrownBy(() -> new FirecrackerDriver(Optional.of(fake)).start(spec(Path.of("/bin/true"))))
                .isInstanceOf(VmmException.class)
                .hasMessageStartingWith("start machine m1 in firecracker: ")
                .hasMessageContaining("bad flag --api-sock");
    }

    @Test
    void recoverRefusesAnotherDriversHandleAndUnknownVersions() {
        var driver = new FirecrackerDriver(Optional.empty());
        assertThatThrownBy(() -> driver.recover(new VmHandle("qemu", 1, 1, Instant.EPOCH, Map.of())))
                .hasMessageContaining("handle belongs to driver qemu");
        assertThatThrownBy(() -> driver.recover(new VmHandle("firecracker", 99, 1, Instant.EPOCH, Map.of())))
                .hasMessageContaining("unknown handle version 99");
    }

    @Test
    void recoverOfAProcessThatIsGoneIsEmpty() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        Map<String, String> data = Map.of("api_socket", "/x", "vsock_socket", "/y", "log", "/z",
                "start_ticks", "1", "logger_fifo", "/a", "metrics_fifo", "/b");
        assertThat(new FirecrackerDriver(Optional.empty())
                .recover(new VmHandle("firecracker", 1, p.pid(), Instant.EPOCH, data))).isEmpty();
    }
}
