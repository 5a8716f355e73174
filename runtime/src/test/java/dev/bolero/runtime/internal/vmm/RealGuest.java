package dev.bolero.runtime.internal.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.KernelFlavour;
import dev.bolero.runtime.JailConfig;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.VmmDriver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BiFunction;
import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveOutputStream;
import org.apache.commons.compress.archivers.cpio.CpioConstants;

/**
 * What the real-binary end-to-end tests need to boot a guest: the VMM on PATH, a usable KVM, a vmlinux with
 * virtio-mmio built in ({@code -Dbolero.test.vmlinux=PATH} or {@code BOLERO_TEST_VMLINUX}), and {@code bolero-init}
 * (built by the guest module). Each missing piece skips the test with its reason.
 */
public final class RealGuest {

    public static final int HELLO = 0x01;

    private RealGuest() {}

    /** Skips the calling test unless {@code vmm} and a usable KVM are here; returns the VMM's path. */
    public static Path requireVmm(String vmm) {
        Optional<Path> binary = HostProcesses.onPath(vmm);
        assumeTrue(binary.isPresent(), vmm + " not found on PATH");
        Optional<String> kvm = Kvm.unusableReason();
        assumeTrue(kvm.isEmpty(), () -> "KVM cannot run a stock guest here (" + kvm.orElse("") + ")");
        return binary.get();
    }

    /** A machine spec booting bolero-init from an initramfs, with a busybox root drive, all under {@code dir}. */
    public static VmSpec busyboxMachine(Path dir, String machineId) throws IOException, InterruptedException {
        String vmlinux = System.getProperty("bolero.test.vmlinux", System.getenv("BOLERO_TEST_VMLINUX"));
        assumeTrue(vmlinux != null && Files.isReadable(Path.of(vmlinux)),
                "no vmlinux with virtio-mmio built in: set -Dbolero.test.vmlinux=PATH or BOLERO_TEST_VMLINUX");
        byte[] init;
        try (InputStream in = RealGuest.class.getResourceAsStream("/dev/bolero/guest/bolero-init")) {
            assumeTrue(in != null, "bolero-init is not built (no dev/bolero/guest/bolero-init on the class path)");
            init = in.readAllBytes();
        }
        Path initramfs = dir.resolve("initramfs.cpio");
        try (OutputStream file = Files.newOutputStream(initramfs);
                CpioArchiveOutputStream cpio = new CpioArchiveOutputStream(file, CpioConstants.FORMAT_NEW)) {
            for (String d : List.of("dev", "proc", "sys", "etc", "etc/bolero")) {
                CpioArchiveEntry entry = new CpioArchiveEntry(CpioConstants.FORMAT_NEW, d);
                entry.setMode(CpioConstants.C_ISDIR | 0755);
                cpio.putArchiveEntry(entry);
                cpio.closeArchiveEntry();
            }
            writeFile(cpio, "etc/bolero/modules", new byte[0], 0644);
            writeFile(cpio, "init", init, 0755);
        }
        Path tree = Files.createDirectories(dir.resolve("rootfs/bin"));
        Files.copy(Path.of("/usr/bin/busybox"), tree.resolve("busybox"));
        Files.createSymbolicLink(tree.resolve("sh"), Path.of("busybox"));
        Path rootDrive = dir.resolve("rootfs.ext4");
        Process mkfs = new ProcessBuilder("mkfs.ext4", "-q", "-F", "-d", dir.resolve("rootfs").toString(),
                rootDrive.toString(), "32M").redirectErrorStream(true).start();
        String out = new String(mkfs.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (mkfs.waitFor() != 0) throw new IOException("mkfs.ext4: " + out);
        return new VmSpec(machineId, dir.resolve("machine"), 1, 128,
                new BootAssets(Path.of(vmlinux), initramfs, List.of("quiet"), KernelFlavour.LEAN), rootDrive, List.of(),
                Duration.ofSeconds(5));
    }

    /**
     * The end-to-end check of a driver against its real VMM: boots {@link #busyboxMachine} under {@code dir} with a
     * driver made by {@code driverOf(binary, jail)} (jailed when run as root, and then checked from {@code /proc}
     * to run with its jail uid and root), sees bolero-init's HELLO over the control channel, re-adopts the VMM with a
     * second driver from its handle, stops it through that one, and checks that the first driver can no longer
     * recover it. Skips, with the reason, as {@link #requireVmm} and {@link #busyboxMachine} do; kills the VMM
     * whatever happens.
     */
    public static void bootSayHelloAndRecover(Path dir, String vmm,
            BiFunction<Optional<Path>, Optional<JailConfig>, VmmDriver> driverOf) throws Exception {
        Path binary = requireVmm(vmm);
        VmSpec spec = busyboxMachine(dir, "e2e-" + UUID.randomUUID().toString().substring(0, 8));
        Optional<JailConfig> jail = JailConfig.whenRoot();
        VmmDriver driver = driverOf.apply(Optional.of(binary), jail);
        VmProcess vm = driver.start(spec);
        try {
            if (jail.isPresent()) {
                String uid = vm.handle().data().get("jail_uid");
                assertThat(Files.readAllLines(Path.of("/proc/" + vm.handle().pid() + "/status")))
                        .contains("Uid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid);
                assertThat(Files.readSymbolicLink(Path.of("/proc/" + vm.handle().pid() + "/root")))
                        .isEqualTo(spec.workDir().toAbsolutePath().resolve("jail"));
            }
            Frame hello = firstFrame(vm, Duration.ofSeconds(60));
            assertThat(hello.type()).isEqualTo(HELLO);
            assertThat(hello.payload()).isEqualTo("bolero-init/1");

            VmProcess adopted = driverOf.apply(Optional.of(binary), jail).recover(vm.handle()).orElseThrow();
            assertThat(adopted.isAlive()).isTrue();
            adopted.stop(spec.stopGrace());
            assertThat(adopted.isAlive()).isFalse();
            assertThat(vm.exit().join()).isNotNull();
            assertThat(driver.recover(vm.handle())).isEmpty();
        } finally {
            vm.kill();
        }
    }

    /** Connects to the control channel (retrying while the guest boots) and returns the first frame's type. */
    public static Frame firstFrame(VmProcess vm, Duration deadline) throws IOException, InterruptedException {
        Instant until = Instant.now().plus(deadline);
        while (true) {
            try (ByteChannel channel = vm.openControl()) {
                ByteBuffer header = readFully(channel, 5);
                int type = header.get(0) & 0xff;
                byte[] payload = readFully(channel, header.getInt(1)).array();
                return new Frame(type, new String(payload, StandardCharsets.UTF_8));
            } catch (IOException notYet) {
                if (!vm.isAlive()) throw new IOException("VMM exited: " + vm.diagnostics(4000), notYet);
                if (Instant.now().isAfter(until)) throw new IOException("no frame within " + deadline, notYet);
                Thread.sleep(100);
            }
        }
    }

    public record Frame(int type, String payload) {}

    private static ByteBuffer readFully(ByteChannel channel, int n) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(n);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) throw new IOException("control channel closed");
        }
        return buffer.flip();
    }

    private static void writeFile(CpioArchiveOutputStream cpio, String name, byte[] data, int mode)
            throws IOException {
        CpioArchiveEntry entry = new CpioArchiveEntry(CpioConstants.FORMAT_NEW, name, data.length);
        entry.setMode(CpioConstants.C_ISREG | mode);
        cpio.putArchiveEntry(entry);
        cpio.write(data);
        cpio.closeArchiveEntry();
    }
}
