package dev.bolero.runtime;

/**
 * What a driver can do on this host.
 *
 * @param accelerator how guests execute here: {@code kvm} (hardware) or {@code tcg} (software emulation)
 * @param acceleratorReason why that accelerator was chosen, for operators (e.g. {@code "no vmx/svm in /proc/cpuinfo"})
 * @param snapshot whether a running VM can be snapshotted and restored
 * @param vsock whether the control channel runs over vsock (otherwise virtio-serial)
 * @param hotplug whether devices can be added to a running VM
 */
public record DriverCapabilities(
        String accelerator, String acceleratorReason, boolean snapshot, boolean vsock, boolean hotplug) {}
