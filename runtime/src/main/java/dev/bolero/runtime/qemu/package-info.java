/**
 * The QEMU {@code microvm} driver: {@link dev.bolero.runtime.qemu.QemuDriver}. The guest control channel is a
 * virtio-serial port named {@code bolero.ctl} behind a Unix socket; KVM is used when it can run guests, TCG otherwise.
 */
package dev.bolero.runtime.qemu;
