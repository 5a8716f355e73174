package dev.bolero.runtime.qemu;

import dev.bolero.runtime.KernelFlavour;
import dev.bolero.runtime.VmSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** The QEMU command line for one machine (see RUNTIME-NOTES for why each flag is there). */
final class QemuCommand {
    /** QEMU's own seccomp sandbox: no obsolete syscalls, no privilege changes, no processes, no affinity. */
    static final String SANDBOX = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny";

    /** The id of the chardev behind the guest's control port ({@code bolero.ctl}). */
    static final String CONTROL_CHARDEV = "ctl";

    private QemuCommand() {}

    /**
     * The files of one machine as QEMU names them: host paths when QEMU runs unjailed, paths inside its jail
     * otherwise.
     *
     * @param drives the spec's {@link VmSpec#drives()}' files, in order
     * @param pidFile where QEMU writes its pid; empty when the jailer does (QEMU's own pid is 1 in its namespace)
     */
    record Files(String kernel, String initramfs, String overlay, String console, String ctlSocket, String qmpSocket,
            Optional<String> pidFile, List<String> drives) {
        Files {
            Objects.requireNonNull(kernel, "kernel");
            Objects.requireNonNull(initramfs, "initramfs");
            Objects.requireNonNull(overlay, "overlay");
            Objects.requireNonNull(console, "console");
            Objects.requireNonNull(ctlSocket, "ctlSocket");
            Objects.requireNonNull(qmpSocket, "qmpSocket");
            Objects.requireNonNull(pidFile, "pidFile");
            drives = List.copyOf(drives);
        }
    }

    /** @param ram where the guest's RAM lives */
    static List<String> build(String qemu, VmSpec spec, Accelerator accel, Files files, GuestRam ram) {
        List<String> cmd = new ArrayList<>(List.of(qemu, "-M", machine(spec.boot().flavour()) + ram.machineOption()));
        cmd.addAll(ram.objectOptions(spec.memoryMb()));
        if (accel.name().equals("kvm")) {
            cmd.addAll(List.of("-accel", "kvm", "-cpu", "host"));
        } else {
            cmd.addAll(List.of("-accel", "tcg,tb-size=32", "-cpu", "max"));
        }
        cmd.addAll(List.of(
                "-smp", Integer.toString(spec.cpus()),
                "-m", spec.memoryMb() + "M",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-sandbox", SANDBOX,
                "-kernel", files.kernel(),
                "-initrd", files.initramfs(),
                "-append", String.join(" ", kernelArgs(spec, accel)),
                "-serial", "file:" + files.console(),
                "-drive", "file=" + escape(files.overlay()) + ",format=qcow2,if=none,id=root",
                "-device", "virtio-blk-device,drive=root",
                "-chardev", "socket,id=" + CONTROL_CHARDEV + ",path=" + escape(files.ctlSocket()) + ",server=on,wait=off",
                "-device", "virtio-serial-device",
                "-device", "virtserialport,chardev=" + CONTROL_CHARDEV + ",name=bolero.ctl",
                "-qmp", "unix:" + escape(files.qmpSocket()) + ",server=on,wait=off"));
        files.pidFile().ifPresent(p -> cmd.addAll(List.of("-pidfile", p)));
        for (int i = 0; i < spec.drives().size(); i++) {
            cmd.addAll(List.of(
                    "-drive", "file=" + escape(files.drives().get(i)) + ",format=raw,if=none,id=" + driveId(i)
                            + ",discard=unmap",
                    "-device", "virtio-blk-device,drive=" + driveId(i) + ",serial="
                            + escape(spec.drives().get(i).serial())));
        }
        for (int i = 0; i < spec.taps().size(); i++) {
            VmSpec.Tap tap = spec.taps().get(i);
            cmd.addAll(List.of(
                    "-netdev", "tap,id=net" + i + ",ifname=" + escape(tap.name()) + ",script=no,downscript=no",
                    "-device", "virtio-net-device,netdev=net" + i + ",mac=" + escape(tap.mac())));
        }
        return cmd;
    }

    /**
     * The microvm machine for a kernel flavour. A distribution kernel finds its virtio-mmio devices through ACPI only.
     * The lean kernel boots faster without ACPI: QEMU then names the devices on the kernel command line
     * ({@code virtio_mmio.device=}, its {@code auto-kernel-cmdline}) and describes the CPUs in an MP table.
     */
    static String machine(KernelFlavour flavour) {
        return switch (flavour) {
            case LEAN -> "microvm,acpi=off";
            case DISTRO -> "microvm,acpi=on";
        };
    }

    /**
     * The boot assets' kernel arguments, plus, under emulation (TCG):
     * <ul>
     *   <li>{@code no_timer_check}: the kernel trusts the emulated IO-APIC's timer route instead of busy-waiting
     *       10 ticks (~25–40 ms) to see it fire; a kernel on KVM skips that check by itself.
     *   <li>{@code noapictimer} for the lean kernel on one emulated CPU: it then ticks from the PIT instead of first
     *       calibrating the local APIC timer, which under TCG busy-waits ~100 ms of emulated time (a kernel with more
     *       CPUs keeps its per-CPU timers).
     * </ul>
     */
    static List<String> kernelArgs(VmSpec spec, Accelerator accel) {
        List<String> args = new ArrayList<>(spec.boot().kernelArgs());
        if (accel.name().equals("kvm")) return args;
        args.add("no_timer_check");
        if (spec.boot().flavour() == KernelFlavour.LEAN && spec.cpus() == 1) args.add("noapictimer");
        return args;
    }

    /** QEMU option values separate by commas: a literal comma is doubled. */
    static String escape(Object value) {
        return value.toString().replace(",", ",,");
    }

    /** The QEMU id of the VM's drive {@code index} (of {@link VmSpec#drives()}), as QMP commands name it. */
    static String driveId(int index) {
        return "vol" + index;
    }
}
