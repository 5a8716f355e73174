package dev.bolero.runtime.cloudhypervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.runtime.JailConfig;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.internal.vmm.RealGuest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real cloud-hypervisor on a hardware KVM: boots bolero-init from an initramfs with a busybox root drive, sees its HELLO
 * frame over the hybrid vsock, re-adopts the VMM from its handle, and stops it. Run as root, the VMM runs jailed by
 * bolero-jailer, as the agent runs it (checked from {@code /proc}: its uid and root). Skipped, with the reason,
 * where the binary, a usable KVM, a suitable vmlinux or bolero-init is missing.
 */
class CloudHypervisorDriverEndToEndTest {

    @TempDir Path dir;

    @Test
    void aGuestBootsAndBoleroInitSaysHelloOverVsock() throws Exception {
        Path binary = RealGuest.requireVmm("cloud-hypervisor");
        VmSpec spec = RealGuest.busyboxMachine(dir, "e2e-" + UUID.randomUUID().toString().substring(0, 8));
        Optional<JailConfig> jail = JailConfig.whenRoot();
        CloudHypervisorDriver driver = new CloudHypervisorDriver(Optional.of(binary), jail);
        VmProcess vm = driver.start(spec);
        try {
            if (jail.isPresent()) {
                String uid = vm.handle().data().get("jail_uid");
                assertThat(Files.readAllLines(Path.of("/proc/" + vm.handle().pid() + "/status")))
                        .contains("Uid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid);
                assertThat(Files.readSymbolicLink(Path.of("/proc/" + vm.handle().pid() + "/root")))
                        .isEqualTo(spec.workDir().toAbsolutePath().resolve("jail"));
            }
            RealGuest.Frame hello = RealGuest.firstFrame(vm, Duration.ofSeconds(60));
            assertThat(hello.type()).isEqualTo(RealGuest.HELLO);
            assertThat(hello.payload()).isEqualTo("bolero-init/1");

            VmProcess adopted = new CloudHypervisorDriver(Optional.of(binary), jail).recover(vm.handle()).orElseThrow();
            assertThat(adopted.isAlive()).isTrue();
            adopted.stop(spec.stopGrace());
            assertThat(adopted.isAlive()).isFalse();
            assertThat(vm.exit().join()).isNotNull();
            assertThat(driver.recover(vm.handle())).isEmpty();
        } finally {
            vm.kill();
        }
    }
}
