package dev.bolero.runtime;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Everything a driver needs to start one microVM.
 *
 * @param machineId the machine's id; used for naming, never parsed
 * @param workDir the machine's own directory: the driver keeps its sockets, logs, pid file and writable drive here
 * @param cpus number of vCPUs, at least 1
 * @param memoryMb guest RAM in MiB, at least 64
 * @param boot the kernel and initramfs to boot
 * @param rootDrive the image's shared root drive (raw ext4); opened read-only, the driver gives the machine a
 *     private copy-on-write view of it in {@code workDir}
 * @param taps tap devices (already created) to attach as virtio-net interfaces, in order
 * @param stopGrace how long the VMM gets to exit after a polite shutdown request before it is killed
 * @param rootDriveBytes the size of the machine's view of its root drive: 0 for the shared drive's own size, else at
 *     least that size; the extra space reads as zeros and the guest grows its file system into it when it boots
 * @param drives further block devices (volumes), attached read-write after the root drive, each with its serial
 */
public record VmSpec(
        String machineId,
        Path workDir,
        int cpus,
        int memoryMb,
        BootAssets boot,
        Path rootDrive,
        List<Tap> taps,
        Duration stopGrace,
        long rootDriveBytes,
        List<Drive> drives) {

    public VmSpec {
        Objects.requireNonNull(machineId, "machineId");
        Objects.requireNonNull(workDir, "workDir");
        Objects.requireNonNull(boot, "boot");
        Objects.requireNonNull(rootDrive, "rootDrive");
        Objects.requireNonNull(stopGrace, "stopGrace");
        if (cpus < 1) throw new IllegalArgumentException("cpus must be at least 1, got " + cpus);
        if (memoryMb < 64) throw new IllegalArgumentException("memory_mb must be at least 64, got " + memoryMb);
        if (rootDriveBytes < 0) throw new IllegalArgumentException("rootDriveBytes must not be negative, got " + rootDriveBytes);
        taps = List.copyOf(taps);
        drives = List.copyOf(drives);
        if (drives.stream().map(Drive::serial).distinct().count() < drives.size()) {
            throw new IllegalArgumentException("drives' serials must be distinct: " + drives);
        }
    }

    /** A machine without further drives. */
    public VmSpec(String machineId, Path workDir, int cpus, int memoryMb, BootAssets boot, Path rootDrive, List<Tap> taps,
            Duration stopGrace, long rootDriveBytes) {
        this(machineId, workDir, cpus, memoryMb, boot, rootDrive, taps, stopGrace, rootDriveBytes, List.of());
    }

    /** A machine whose root drive has the shared drive's own size. */
    public VmSpec(String machineId, Path workDir, int cpus, int memoryMb, BootAssets boot, Path rootDrive, List<Tap> taps,
            Duration stopGrace) {
        this(machineId, workDir, cpus, memoryMb, boot, rootDrive, taps, stopGrace, 0);
    }

    /**
     * The size the machine's root drive must have: {@link #rootDriveBytes}, or the shared drive's size if that is 0.
     *
     * @throws VmmException if the shared drive is unreadable or larger than {@link #rootDriveBytes}
     */
    public long rootDriveSize() throws VmmException {
        long base;
        try {
            base = java.nio.file.Files.size(rootDrive);
        } catch (java.io.IOException e) {
            throw new VmmException("root drive " + rootDrive + ": " + e, e);
        }
        if (rootDriveBytes == 0) return base;
        if (rootDriveBytes < base) {
            throw new VmmException("a root drive of " + rootDriveBytes + " bytes is smaller than the image's drive " + rootDrive
                    + " (" + base + " bytes)");
        }
        return rootDriveBytes;
    }

    /**
     * A raw block device image on the host that the guest sees as a virtio-blk device carrying {@code serial} (in
     * {@code /sys/block/vdX/serial}), by which the guest finds it whatever its order.
     *
     * @param file the image: a regular file the VMM opens read-write
     * @param serial 1 to 20 of {@code A-Z a-z 0-9 _ -} (virtio-blk's limit)
     */
    public record Drive(Path file, String serial) {
        public Drive {
            Objects.requireNonNull(file, "file");
            if (serial == null || !serial.matches("[A-Za-z0-9_-]{1,20}")) {
                throw new IllegalArgumentException("drive serial must be 1-20 of A-Z a-z 0-9 _ -, got " + serial);
            }
        }
    }

    /** A host tap device and the MAC address the guest's interface gets. */
    public record Tap(String name, String mac) {
        public Tap {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(mac, "mac");
        }
    }
}
