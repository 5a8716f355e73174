package dev.bolero.runtime;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A bootable kernel and the initramfs that carries {@code bolero-init} (and, for a distribution kernel, the kernel
 * modules it loads).
 *
 * @param kernel an uncompressed {@code vmlinux} (ELF with a PVH note) or a {@code bzImage}
 * @param initramfs an uncompressed newc cpio archive whose {@code /init} is {@code bolero-init}
 * @param kernelArgs arguments every guest of this kernel needs, in order (the driver adds its own device args)
 * @param flavour what kind of kernel it is, which decides the devices and machine options a driver gives it
 */
public record BootAssets(Path kernel, Path initramfs, List<String> kernelArgs, KernelFlavour flavour) {
    public BootAssets {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(initramfs, "initramfs");
        Objects.requireNonNull(flavour, "flavour");
        kernelArgs = List.copyOf(kernelArgs);
    }
}
