package dev.bolero.runtime.qemu;

import dev.bolero.runtime.VmSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The QEMU command line for one machine (see RUNTIME-NOTES for why each flag is there). */
final class QemuCommand {
    private QemuCommand() {}

    static List<String> build(
            String qemu, VmSpec spec, Accelerator accel, Path overlay, Path ctlSocket, Path qmpSocket, Path pidFile) {
        Path work = spec.workDir();
        List<String> cmd = new ArrayList<>(List.of(qemu, "-M", "microvm,acpi=on"));
        if (accel.name().equals("kvm")) {
            cmd.addAll(List.of("-accel", "kvm", "-cpu", "host"));
        } else {
            cmd.addAll(List.of("-accel", "tcg,tb-size=32", "-cpu", "max"));
        }
        cmd.addAll(List.of(
                "-smp", Integer.toString(spec.cpus()),
                "-m", spec.memoryMb() + "M",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-kernel", spec.boot().kernel().toString(),
                "-initrd", spec.boot().initramfs().toString(),
                "-append", String.join(" ", spec.boot().kernelArgs()),
                "-serial", "file:" + work.resolve("console.log"),
                "-drive", "file=" + escape(overlay) + ",format=qcow2,if=none,id=root",
                "-device", "virtio-blk-device,drive=root",
                "-chardev", "socket,id=ctl,path=" + escape(ctlSocket) + ",server=on,wait=off",
                "-device", "virtio-serial-device",
                "-device", "virtserialport,chardev=ctl,name=bolero.ctl",
                "-qmp", "unix:" + escape(qmpSocket) + ",server=on,wait=off",
                "-pidfile", pidFile.toString()));
        for (int i = 0; i < spec.taps().size(); i++) {
            VmSpec.Tap tap = spec.taps().get(i);
            cmd.addAll(List.of(
                    "-netdev", "tap,id=net" + i + ",ifname=" + escape(tap.name()) + ",script=no,downscript=no",
                    "-device", "virtio-net-device,netdev=net" + i + ",mac=" + escape(tap.mac())));
        }
        return cmd;
    }

    /** QEMU option values separate by commas: a literal comma is doubled. */
    static String escape(Object value) {
        return value.toString().replace(",", ",,");
    }
}
