package dev.bolero.runtime.firecracker;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.internal.vmm.ApiRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Every request the Firecracker driver sends, built from typed records whose components are the spec's
 * properties (camelCase here, snake_case on the wire). The contract test validates each against
 * {@code firecracker.yaml}.
 */
final class FirecrackerApi {

    /** The guest's vsock context id; one guest per vsock device, so any valid CID (≥ 3) serves. */
    static final int GUEST_CID = 3;

    private FirecrackerApi() {}

    record Logger(String logPath, String level, boolean showLevel, boolean showLogOrigin) {}

    record Metrics(String metricsPath) {}

    record MachineConfiguration(int vcpuCount, int memSizeMib, boolean smt) {}

    record BootSource(String kernelImagePath, String initrdPath, String bootArgs) {}

    record Drive(String driveId, String pathOnHost, boolean isRootDevice, boolean isReadOnly) {}

    record NetworkInterface(String ifaceId, String hostDevName, String guestMac) {}

    record Vsock(int guestCid, String udsPath) {}

    record InstanceActionInfo(ActionType actionType) {}

    enum ActionType {
        INSTANCE_START("InstanceStart"),
        SEND_CTRL_ALT_DEL("SendCtrlAltDel");

        private final String wire;

        ActionType(String wire) {
            this.wire = wire;
        }

        @JsonValue
        String wire() {
            return wire;
        }
    }

    /** {@code PATCH /vm}: pause or resume the running VM. */
    record Vm(VmState state) {}

    enum VmState {
        PAUSED("Paused"),
        RESUMED("Resumed");

        private final String wire;

        VmState(String wire) {
            this.wire = wire;
        }

        @JsonValue
        String wire() {
            return wire;
        }
    }

    record SnapshotCreateParams(String snapshotPath, String memFilePath, SnapshotType snapshotType) {}

    enum SnapshotType {
        FULL("Full");

        private final String wire;

        SnapshotType(String wire) {
            this.wire = wire;
        }

        @JsonValue
        String wire() {
            return wire;
        }
    }

    record MemoryBackend(BackendType backendType, String backendPath) {}

    enum BackendType {
        FILE("File");

        private final String wire;

        BackendType(String wire) {
            this.wire = wire;
        }

        @JsonValue
        String wire() {
            return wire;
        }
    }

    record SnapshotLoadParams(String snapshotPath, MemoryBackend memBackend, boolean resumeVm) {}

    /**
     * Where a Firecracker snapshot's two files are, as Firecracker opens them.
     *
     * @param vmState the microVM (device) state
     * @param memory the guest memory
     */
    record SnapshotPaths(String vmState, String memory) {
        SnapshotPaths {
            Objects.requireNonNull(vmState, "vmState");
            Objects.requireNonNull(memory, "memory");
        }
    }

    /**
     * Where Firecracker finds the machine's files, as paths it can open (inside its chroot when jailed).
     *
     * @param kernel the vmlinux
     * @param initramfs the initramfs
     * @param rootDrive the machine's private root drive
     * @param vsockSocket the hybrid-vsock Unix socket Firecracker creates
     * @param loggerFifo the named pipe for Firecracker's log
     * @param metricsFifo the named pipe for Firecracker's metrics
     * @param drives the spec's further drives ({@link VmSpec#drives()}), in order
     */
    record VmmPaths(
            String kernel, String initramfs, String rootDrive, String vsockSocket, String loggerFifo,
            String metricsFifo, List<String> drives) {
        VmmPaths {
            drives = List.copyOf(drives);
            Objects.requireNonNull(kernel, "kernel");
            Objects.requireNonNull(initramfs, "initramfs");
            Objects.requireNonNull(rootDrive, "rootDrive");
            Objects.requireNonNull(vsockSocket, "vsockSocket");
            Objects.requireNonNull(loggerFifo, "loggerFifo");
            Objects.requireNonNull(metricsFifo, "metricsFifo");
        }
    }

    /** The kernel arguments Firecracker guests get after the boot assets' own. */
    static final List<String> DRIVER_KERNEL_ARGS = List.of("console=ttyS0", "reboot=k", "panic=1", "pci=off");

    /** Virtio-blk's limit on a device id ({@code VIRTIO_BLK_ID_BYTES}). */
    private static final int BLOCK_ID_BYTES = 20;

    /**
     * The id Firecracker's virtio-blk device gives the guest for {@code file} ({@code /sys/block/vdX/serial}), as its
     * block device builds it: the decimal {@code st_dev}, {@code st_rdev} and {@code st_ino} of the file, one after
     * the other (as kvmtool does), cut at virtio-blk's 20 bytes.
     *
     * @throws IOException when the file's attributes cannot be read
     */
    static String blockDeviceId(Path file) throws IOException {
        String id = Long.toUnsignedString((Long) Files.getAttribute(file, "unix:dev"))
                + Long.toUnsignedString((Long) Files.getAttribute(file, "unix:rdev"))
                + Long.toUnsignedString((Long) Files.getAttribute(file, "unix:ino"));
        return id.length() > BLOCK_ID_BYTES ? id.substring(0, BLOCK_ID_BYTES) : id;
    }

    /** The pre-boot configuration and {@code InstanceStart}, in the order they are sent. */
    static List<ApiRequest> boot(VmSpec spec, VmmPaths paths) {
        List<String> args = new ArrayList<>(spec.boot().kernelArgs());
        args.addAll(DRIVER_KERNEL_ARGS);
        List<ApiRequest> requests = new ArrayList<>();
        requests.addAll(observability(paths));
        requests.add(ApiRequest.put("/machine-config",
                new MachineConfiguration(spec.cpus(), spec.memoryMb(), false)));
        requests.add(ApiRequest.put("/boot-source",
                new BootSource(paths.kernel(), paths.initramfs(), String.join(" ", args))));
        // Not Firecracker's root device: bolero-init in the initramfs mounts it (so no root= is added).
        requests.add(ApiRequest.put("/drives/root", new Drive("root", paths.rootDrive(), false, false)));
        // Volumes, read-write, after the root drive. Firecracker's drive API takes no serial: the guest finds each by
        // the id Firecracker makes up for it (blockDeviceId), which the driver tells the agent (guestSerial).
        for (int i = 0; i < spec.drives().size(); i++) {
            String id = spec.drives().get(i).serial();
            requests.add(ApiRequest.put("/drives/" + id, new Drive(id, paths.drives().get(i), false, false)));
        }
        for (int i = 0; i < spec.taps().size(); i++) {
            VmSpec.Tap tap = spec.taps().get(i);
            String id = "eth" + i;
            requests.add(ApiRequest.put("/network-interfaces/" + id, new NetworkInterface(id, tap.name(), tap.mac())));
        }
        requests.add(ApiRequest.put("/vsock", new Vsock(GUEST_CID, paths.vsockSocket())));
        requests.add(ApiRequest.put("/actions", new InstanceActionInfo(ActionType.INSTANCE_START)));
        return List.copyOf(requests);
    }

    /** Pauses the VM and writes a full snapshot of it (the caller then ends the VMM). */
    static List<ApiRequest> save(SnapshotPaths snapshot) {
        return List.of(
                new ApiRequest("PATCH", "/vm", java.util.Optional.of(new Vm(VmState.PAUSED))),
                ApiRequest.put("/snapshot/create",
                        new SnapshotCreateParams(snapshot.vmState(), snapshot.memory(), SnapshotType.FULL)));
    }

    /**
     * Configures a fresh Firecracker's logger and metrics (the only resources allowed before a load), then loads the
     * snapshot and resumes the VM: its devices, drive and vsock paths are those it was saved with.
     */
    static List<ApiRequest> load(VmmPaths paths, SnapshotPaths snapshot) {
        List<ApiRequest> requests = new ArrayList<>(observability(paths));
        requests.add(ApiRequest.put("/snapshot/load", new SnapshotLoadParams(snapshot.vmState(),
                new MemoryBackend(BackendType.FILE, snapshot.memory()), true)));
        return List.copyOf(requests);
    }

    /** Firecracker's logger and metrics, to the named pipes the driver reads. */
    private static List<ApiRequest> observability(VmmPaths paths) {
        return List.of(ApiRequest.put("/logger", new Logger(paths.loggerFifo(), "Warning", true, false)),
                ApiRequest.put("/metrics", new Metrics(paths.metricsFifo())));
    }

    /** Asks the guest to shut down: Ctrl+Alt+Del on the emulated i8042 keyboard controller. */
    static List<ApiRequest> politeStop() {
        return List.of(ApiRequest.put("/actions", new InstanceActionInfo(ActionType.SEND_CTRL_ALT_DEL)));
    }
}
