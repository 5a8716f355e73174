package dev.bolero.runtime;

/**
 * The kind of guest kernel a machine boots. It decides what the initramfs carries and which devices and machine
 * options the VMM gives the guest.
 */
public enum KernelFlavour {
    /**
     * Bolero's own microVM kernel ({@code scripts/build-kernel.sh}): every driver built in, no ACPI. The initramfs
     * holds {@code bolero-init} only; QEMU's microvm machine runs without ACPI and names the virtio-mmio devices on
     * the kernel command line.
     */
    LEAN,
    /**
     * A distribution kernel (Debian's): virtio, ext4 and the other drivers are modules that {@code bolero-init} loads
     * from the initramfs, and QEMU's microvm machine needs ACPI for the kernel to find its virtio-mmio devices.
     */
    DISTRO
}
