package dev.bolero.runtime.internal.vmm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/** Whether this host's KVM can run a stock guest (Firecracker and Cloud Hypervisor have no software fallback). */
public final class Kvm {

    private static final Pattern VIRT_FLAG = Pattern.compile("^flags\\s*:.*\\b(vmx|svm)\\b", Pattern.MULTILINE);

    private Kvm() {}

    /** Why a KVM-only VMM cannot run here: its binary is missing or KVM cannot run a stock guest; empty: it can. */
    public static Optional<String> vmmUnusableReason(String vmm, Optional<Path> binary) {
        if (binary.or(() -> HostProcesses.onPath(vmm)).isEmpty()) return Optional.of(vmm + " not found on PATH");
        return unusableReason();
    }

    /** Why KVM cannot run a stock guest here, or empty when it can. */
    public static Optional<String> unusableReason() {
        if (!Files.isReadable(Path.of("/dev/kvm")) || !Files.isWritable(Path.of("/dev/kvm"))) {
            return Optional.of("KVM cannot run a stock guest here: /dev/kvm is missing or not accessible");
        }
        try {
            if (!VIRT_FLAG.matcher(Files.readString(Path.of("/proc/cpuinfo"))).find()) {
                return Optional.of("KVM cannot run a stock guest here: no vmx/svm in /proc/cpuinfo (nested without"
                        + " hardware virtualisation)");
            }
        } catch (IOException e) {
            return Optional.of("KVM cannot run a stock guest here: read /proc/cpuinfo: " + e.getMessage());
        }
        return Optional.empty();
    }
}
