package dev.bolero.runtime.cloudhypervisor;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.internal.vmm.ApiRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Every request the Cloud Hypervisor driver sends, built from typed records whose components are the spec's
 * properties (camelCase here, snake_case on the wire). Paths are the spec's; the wire adds {@link #BASE_PATH}.
 * The contract test validates each against {@code cloud-hypervisor.yaml}.
 */
final class CloudHypervisorApi {

    /** The spec's server URL path. */
    static final String BASE_PATH = "/api/v1";
    static final int GUEST_CID = 3;
    static final List<String> DRIVER_KERNEL_ARGS = List.of("console=ttyS0", "panic=1");

    private CloudHypervisorApi() {}

    record VmConfig(
            CpusConfig cpus,
            MemoryConfig memory,
            PayloadConfig payload,
            List<DiskConfig> disks,
            List<NetConfig> net,
            ConsoleConfig serial,
            ConsoleConfig console,
            VsockConfig vsock) {
        VmConfig {
            disks = List.copyOf(disks);
            net = List.copyOf(net);
        }
    }

    record CpusConfig(int bootVcpus, int maxVcpus) {}

    /** @param size guest RAM in bytes */
    record MemoryConfig(long size) {}

    record PayloadConfig(String kernel, String initramfs, String cmdline) {}

    /** @param serial the virtio serial the guest reads in {@code /sys/block/vdX/serial}; none for the root drive */
    record DiskConfig(String id, String path, boolean readonly, Optional<String> serial) {
        DiskConfig {
            Objects.requireNonNull(serial, "serial");
        }
    }

    record NetConfig(String id, String tap, String mac) {}

    /** Serial and virtio-console both use this shape (the spec's SerialConfig is ConsoleConfig's subset we use). */
    record ConsoleConfig(ConsoleMode mode, Optional<String> file) {
        ConsoleConfig {
            Objects.requireNonNull(mode, "mode");
            Objects.requireNonNull(file, "file");
        }
    }

    enum ConsoleMode {
        OFF("Off"),
        FILE("File");

        private final String wire;

        ConsoleMode(String wire) {
            this.wire = wire;
        }

        @JsonValue
        String wire() {
            return wire;
        }
    }

    record VsockConfig(long cid, String socket) {}

    record VmSnapshotConfig(String destinationUrl) {}

    record RestoreConfig(String sourceUrl, boolean prefault) {}

    /**
     * The machine's files as Cloud Hypervisor opens them (inside its chroot when jailed).
     *
     * @param kernel the vmlinux
     * @param initramfs the initramfs
     * @param rootDrive the machine's private root drive
     * @param vsockSocket the hybrid-vsock Unix socket Cloud Hypervisor creates
     * @param serialLog the file the guest's serial console is written to
     * @param drives the spec's further drives ({@link VmSpec#drives()}), in order
     */
    record VmmPaths(String kernel, String initramfs, String rootDrive, String vsockSocket, String serialLog,
                    List<String> drives) {
        VmmPaths {
            drives = List.copyOf(drives);
            Objects.requireNonNull(kernel, "kernel");
            Objects.requireNonNull(initramfs, "initramfs");
            Objects.requireNonNull(rootDrive, "rootDrive");
            Objects.requireNonNull(vsockSocket, "vsockSocket");
            Objects.requireNonNull(serialLog, "serialLog");
        }
    }

    /** {@code vm.create} with the whole configuration, then {@code vm.boot}. */
    static List<ApiRequest> boot(VmSpec spec, VmmPaths paths) {
        List<String> args = new ArrayList<>(spec.boot().kernelArgs());
        args.addAll(DRIVER_KERNEL_ARGS);
        List<NetConfig> net = new ArrayList<>();
        for (int i = 0; i < spec.taps().size(); i++) {
            VmSpec.Tap tap = spec.taps().get(i);
            net.add(new NetConfig("eth" + i, tap.name(), tap.mac()));
        }
        List<DiskConfig> disks = new ArrayList<>(List.of(
                new DiskConfig("root", paths.rootDrive(), false, Optional.empty())));
        for (int i = 0; i < spec.drives().size(); i++) {
            String serial = spec.drives().get(i).serial();
            disks.add(new DiskConfig(serial, paths.drives().get(i), false, Optional.of(serial)));
        }
        VmConfig config = new VmConfig(
                new CpusConfig(spec.cpus(), spec.cpus()),
                new MemoryConfig((long) spec.memoryMb() << 20),
                new PayloadConfig(paths.kernel(), paths.initramfs(),
                        String.join(" ", args)),
                disks,
                net,
                new ConsoleConfig(ConsoleMode.FILE, Optional.of(paths.serialLog())),
                new ConsoleConfig(ConsoleMode.OFF, Optional.empty()),
                new VsockConfig(GUEST_CID, paths.vsockSocket()));
        return List.of(ApiRequest.put("/vm.create", config), ApiRequest.put("/vm.boot"));
    }

    /**
     * Pauses the VM and snapshots it (its config, device state and memory) into the directory {@code dir} as Cloud
     * Hypervisor sees it; the caller then ends the VMM.
     */
    static List<ApiRequest> save(String dir) {
        return List.of(ApiRequest.put("/vm.pause"),
                ApiRequest.put("/vm.snapshot", new VmSnapshotConfig("file://" + dir)));
    }

    /** Restores the VM a fresh Cloud Hypervisor is given from the snapshot in {@code dir}, then resumes it. */
    static List<ApiRequest> load(String dir) {
        return List.of(ApiRequest.put("/vm.restore", new RestoreConfig("file://" + dir, false)),
                ApiRequest.put("/vm.resume"));
    }

    /** The ACPI power button: a guest that handles it powers off. */
    static List<ApiRequest> politeStop() {
        return List.of(ApiRequest.put("/vm.power-button"));
    }

    /** Stops the VM, then the VMM process, when the guest ignored the power button. */
    static List<ApiRequest> forcefulStop() {
        return List.of(ApiRequest.put("/vm.shutdown"), ApiRequest.put("/vmm.shutdown"));
    }
}
