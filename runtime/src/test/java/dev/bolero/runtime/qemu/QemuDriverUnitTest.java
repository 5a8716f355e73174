package dev.bolero.runtime.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.KernelFlavour;
import dev.bolero.runtime.VmSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QemuDriverUnitTest {

    private static VmSpec spec(Path work, List<VmSpec.Tap> taps) {
        var boot = new BootAssets(Path.of("/b/vmlinux"), Path.of("/b/initramfs.cpio"), List.of("console=ttyS0", "quiet"),
                KernelFlavour.DISTRO);
        return new VmSpec("m1", work, 2, 512, boot, Path.of("/img/root.ext4"), taps, Duration.ofSeconds(1));
    }

    @Test
    void commandLineUsesTcgWithATranslationCacheLimitAndOneNicPerTap() {
        Path w = Path.of("/w,1");
        List<String> cmd = QemuCommand.build("qemu", spec(w, List.of(new VmSpec.Tap("tap0", "02:00:00:00:00:01"))),
                new Accelerator("tcg", "test"), files(w, Optional.of(w.resolve("vmm.pid").toString())),
                new GuestRam.Anonymous());
        String line = String.join(" ", cmd);
        assertThat(cmd.subList(0, 3)).containsExactly("qemu", "-M", "microvm,acpi=on");
        assertThat(line).contains("-accel tcg,tb-size=32 -cpu max", "-smp 2", "-m 512M", "-no-reboot", "-nodefaults",
                "-append console=ttyS0 quiet no_timer_check",
                "-drive file=/w,,1/root.qcow2,format=qcow2,if=none,id=root",
                "-chardev socket,id=ctl,path=/w,,1/ctl.sock,server=on,wait=off",
                "-device virtserialport,chardev=ctl,name=bolero.ctl",
                "-netdev tap,id=net0,ifname=tap0,script=no,downscript=no",
                "-device virtio-net-device,netdev=net0,mac=02:00:00:00:00:01",
                "-pidfile /w,1/vmm.pid",
                "-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
        assertThat(cmd.get(cmd.indexOf("-append") + 1)).isEqualTo("console=ttyS0 quiet no_timer_check");
    }

    @Test
    void fileBackedRamIsTheMachinesDefaultRamBlockMappedSharedOrPrivate() {
        Path w = Path.of("/w");
        List<String> shared = QemuCommand.build("qemu", spec(w, List.of()), new Accelerator("tcg", "test"),
                files(w, Optional.empty()), new GuestRam.Shared());
        assertThat(shared.subList(0, 5)).containsExactly("qemu", "-M", "microvm,acpi=on,memory-backend=microvm.ram",
                "-object", "memory-backend-memfd,id=microvm.ram,size=512M,share=on");
        assertThat(String.join(" ", shared)).contains("-m 512M");
        List<String> clone = QemuCommand.build("qemu", spec(w, List.of()), new Accelerator("tcg", "test"),
                files(w, Optional.empty()), new GuestRam.Private(Path.of("/w,1/snapshot/qemu-memory")));
        assertThat(clone).contains(
                "memory-backend-file,id=microvm.ram,size=512M,mem-path=/w,,1/snapshot/qemu-memory,share=off");
        List<String> anonymous = QemuCommand.build("qemu", spec(w, List.of()), new Accelerator("tcg", "test"),
                files(w, Optional.empty()), new GuestRam.Anonymous());
        assertThat(anonymous).contains("microvm,acpi=on").doesNotContain("-object");
    }

    @Test
    void theLeanKernelGetsAMicrovmWithoutAcpiAndDebiansKernelOneWithAcpi() {
        assertThat(QemuCommand.machine(KernelFlavour.LEAN)).isEqualTo("microvm,acpi=off");
        assertThat(QemuCommand.machine(KernelFlavour.DISTRO)).isEqualTo("microvm,acpi=on");
    }

    @Test
    void anEmulatedGuestSkipsTheTimerCheckAndTheLeanKernelOnOneCpuTheApicTimerCalibration() {
        var tcg = new Accelerator("tcg", "test");
        var lean = new BootAssets(Path.of("/b/vmlinux"), Path.of("/b/initramfs.cpio"), List.of("quiet"), KernelFlavour.LEAN);
        VmSpec one = new VmSpec("m1", Path.of("/w"), 1, 256, lean, Path.of("/img/root.ext4"), List.of(), Duration.ofSeconds(1));
        assertThat(QemuCommand.kernelArgs(one, tcg)).containsExactly("quiet", "no_timer_check", "noapictimer");
        VmSpec two = new VmSpec("m1", Path.of("/w"), 2, 256, lean, Path.of("/img/root.ext4"), List.of(), Duration.ofSeconds(1));
        assertThat(QemuCommand.kernelArgs(two, tcg)).containsExactly("quiet", "no_timer_check");
        assertThat(QemuCommand.kernelArgs(one, new Accelerator("kvm", "test"))).containsExactly("quiet");
        assertThat(QemuCommand.kernelArgs(spec(Path.of("/w"), List.of()), tcg)).containsExactly("console=ttyS0", "quiet",
                "no_timer_check");
    }

    @Test
    void aJailedQemuNamesItsFilesInsideTheJailAndWritesNoPidFile() {
        var files = new QemuCommand.Files("/vmlinux", "/initramfs", "/root.qcow2", "/console.log", "/run/ctl.sock",
                "/run/qmp.sock", Optional.empty(), List.of());
        List<String> cmd = QemuCommand.build("/usr/bin/qemu", spec(Path.of("/w"), List.of()),
                new Accelerator("tcg", "test"), files, new GuestRam.Anonymous());
        assertThat(String.join(" ", cmd)).contains("-kernel /vmlinux", "-initrd /initramfs",
                "-serial file:/console.log", "-drive file=/root.qcow2,", "path=/run/ctl.sock,", "-qmp unix:/run/qmp.sock,");
        assertThat(cmd).doesNotContain("-pidfile");
    }

    private static QemuCommand.Files files(Path w, Optional<String> pidFile) {
        return new QemuCommand.Files("/b/vmlinux", "/b/initramfs.cpio", w.resolve("root.qcow2").toString(),
                w.resolve("console.log").toString(), w.resolve("ctl.sock").toString(), w.resolve("qmp.sock").toString(),
                pidFile, List.of());
    }

    @Test
    void volumesAreFurtherRawVirtioDrivesNamedBySerial() {
        Path w = Path.of("/w");
        var boot = new BootAssets(Path.of("/b/vmlinux"), Path.of("/b/initramfs.cpio"), List.of(), KernelFlavour.LEAN);
        var spec = new VmSpec("m1", w, 1, 256, boot, Path.of("/img/root.ext4"), List.of(), Duration.ofSeconds(1), 0,
                List.of(new VmSpec.Drive(Path.of("/v/a.ext4"), "vol_a"), new VmSpec.Drive(Path.of("/v/b,c.ext4"),
                        "vol_b")));
        var files = new QemuCommand.Files("/b/vmlinux", "/b/initramfs.cpio", "/w/root.qcow2", "/w/console.log",
                "/w/ctl.sock", "/w/qmp.sock", Optional.empty(), List.of("/v/a.ext4", "/v/b,c.ext4"));
        String cmd = String.join(" ", QemuCommand.build("qemu", spec, new Accelerator("tcg", "test"), files,
                new GuestRam.Anonymous()));
        assertThat(cmd).contains("-drive file=/v/a.ext4,format=raw,if=none,id=vol0,discard=unmap "
                + "-device virtio-blk-device,drive=vol0,serial=vol_a")
                .contains("-drive file=/v/b,,c.ext4,format=raw,if=none,id=vol1")
                .contains("virtio-blk-device,drive=vol1,serial=vol_b");
        assertThat(cmd.indexOf("drive=root")).as("the root drive stays /dev/vda").isLessThan(cmd.indexOf("drive=vol0"));
    }

    @Test
    void commandLineUsesTheHostCpuUnderKvm() {
        Path w = Path.of("/w");
        List<String> cmd = QemuCommand.build("qemu", spec(w, List.of()), new Accelerator("kvm", "test"),
                files(w, Optional.empty()), new GuestRam.Anonymous());
        assertThat(Collections.indexOfSubList(cmd, List.of("-accel", "kvm", "-cpu", "host"))).isPositive();
        assertThat(cmd).doesNotContain("-netdev");
    }

    @Test
    void kvmNeedsAnOpenableDeviceAndVirtualisationFlags(@TempDir Path dir) throws IOException {
        Path kvm = Files.createFile(dir.resolve("kvm"));
        Path withVmx = Files.writeString(dir.resolve("cpu1"), "processor\t: 0\nflags\t\t: fpu vmx sse\n");
        Path without = Files.writeString(dir.resolve("cpu2"), "processor\t: 0\nflags\t\t: fpu sse hypervisor\n");
        assertThat(Accelerator.choose(QemuDriver.Accel.AUTO, kvm, withVmx).name()).isEqualTo("kvm");
        Accelerator nested = Accelerator.choose(QemuDriver.Accel.AUTO, kvm, without);
        assertThat(nested.name()).isEqualTo("tcg");
        assertThat(nested.reason()).contains("no vmx/svm");
        Accelerator noDevice = Accelerator.choose(QemuDriver.Accel.AUTO, dir.resolve("absent"), withVmx);
        assertThat(noDevice.name()).isEqualTo("tcg");
        assertThat(noDevice.reason()).contains("cannot be opened");
        assertThat(Accelerator.choose(QemuDriver.Accel.TCG, kvm, withVmx).name()).isEqualTo("tcg");
        assertThat(Accelerator.choose(QemuDriver.Accel.KVM, dir.resolve("absent"), without).name()).isEqualTo("kvm");
    }

    @Test
    void socketsMoveToAShortDirectoryOnlyWhenTheWorkDirIsTooLong(@TempDir Path dir) throws IOException {
        assertThat(QemuDriver.socketDir(dir)).isEqualTo(dir.toAbsolutePath());
        assumeTrue(Files.isWritable(Path.of("/run")), "needs a writable /run for the short socket directory");
        Path deep = dir.resolve("x".repeat(110));
        Path moved = QemuDriver.socketDir(deep);
        try {
            assertThat(moved.toString()).startsWith("/run/bolero/");
            assertThat(moved.resolve("ctl.sock").toString().length()).isLessThan(108);
        } finally {
            Files.deleteIfExists(moved);
        }
    }
}
