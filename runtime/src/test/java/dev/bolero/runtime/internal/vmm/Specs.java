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
}
