package dev.bolero.runtime.internal.vmm;

import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.KernelFlavour;
import dev.bolero.runtime.VmSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Representative machine specs for driver tests. */
public final class Specs {

    public static final List<VmSpec.Tap> TAPS =
            List.of(new VmSpec.Tap("bt0a1b2c3", "02:42:0a:d2:00:05"), new VmSpec.Tap("bt0a1b2c4", "02:42:0a:d2:00:06"));

    private Specs() {}

    public static VmSpec machine(List<VmSpec.Tap> taps) {
        return new VmSpec("m-7f3a", Path.of("/var/lib/bolero/machines/m-7f3a"), 2, 256,
                new BootAssets(Path.of("/var/lib/bolero/kernels/vmlinux"), Path.of("/var/lib/bolero/kernels/initramfs"),
                        List.of("quiet", "mitigations=off"), KernelFlavour.LEAN),
                Path.of("/var/lib/bolero/images/sha256-ab/rootfs.ext4"), taps, Duration.ofSeconds(5));
    }

    /** Two volumes' drives. */
    public static final List<VmSpec.Drive> DRIVES = List.of(
            new VmSpec.Drive(Path.of("/var/lib/bolero/volumes/vol_0123456789abcdef.ext4"), "vol_0123456789abcdef"),
            new VmSpec.Drive(Path.of("/var/lib/bolero/volumes/vol_fedcba9876543210.ext4"), "vol_fedcba9876543210"));

    /** {@link #machine} with {@link #DRIVES}. */
    public static VmSpec machineWithDrives(List<VmSpec.Tap> taps) {
        VmSpec m = machine(taps);
        return new VmSpec(m.machineId(), m.workDir(), m.cpus(), m.memoryMb(), m.boot(), m.rootDrive(), m.taps(),
                m.stopGrace(), m.rootDriveBytes(), DRIVES);
    }
}
