package dev.bolero.runtime.qemu;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Pattern;

/** The accelerator QEMU uses here, and why. */
record Accelerator(String name, String reason) {
    private static final Pattern VIRT_FLAG = Pattern.compile("(?m)^flags\\s*:.*\\b(vmx|svm)\\b");

    static Accelerator choose(QemuDriver.Accel wanted, Path kvmDevice, Path cpuinfo) {
        return switch (wanted) {
            case KVM -> new Accelerator("kvm", "kvm forced by configuration");
            case TCG -> new Accelerator("tcg", "tcg forced by configuration");
            case AUTO -> detect(kvmDevice, cpuinfo);
        };
    }

    private static Accelerator detect(Path kvmDevice, Path cpuinfo) {
        try (FileChannel ignored = FileChannel.open(kvmDevice, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // opened: now check the CPU can run guests (a nested host may expose /dev/kvm that cannot)
        } catch (IOException | UnsupportedOperationException e) {
            return new Accelerator("tcg", kvmDevice + " cannot be opened read-write (" + e.getMessage() + ")");
        }
        try {
            if (!VIRT_FLAG.matcher(Files.readString(cpuinfo)).find()) {
                return new Accelerator("tcg", "no vmx/svm flag in " + cpuinfo + " (nested or disabled virtualisation)");
            }
        } catch (IOException e) {
            return new Accelerator("tcg", "cannot read " + cpuinfo + ": " + e.getMessage());
        }
        return new Accelerator("kvm", kvmDevice + " usable and the CPU has vmx/svm");
    }
}
