/**
 * Boot assets: the host's kernel made fast to boot under QEMU (an uncompressed PVH {@code vmlinux}), and the
 * initramfs carrying {@code bolero-init} and the kernel modules it needs. Built once per kernel and init, cached under
 * the data directory. Entry point: {@link dev.bolero.runtime.boot.BootAssetsBuilder}.
 */
package dev.bolero.runtime.boot;
