package dev.bolero.runtime.firecracker;

import dev.bolero.runtime.internal.vmm.RealGuest;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real firecracker on a hardware KVM: boots bolero-init from an initramfs with a busybox root drive, sees its HELLO
 * frame over the hybrid vsock, re-adopts the VMM from its handle, and stops it. Run as root, the VMM runs jailed by
 * bolero-jailer, as the agent runs it (checked from {@code /proc}: its uid and root). Skipped, with the reason,
 * where the binary, a usable KVM, a suitable vmlinux or bolero-init is missing.
 */
class FirecrackerDriverEndToEndTest {

    @TempDir Path dir;

    @Test
    void aGuestBootsAndBoleroInitSaysHelloOverVsock() throws Exception {
        RealGuest.bootSayHelloAndRecover(dir, "firecracker", FirecrackerDriver::new);
    }
}
