package dev.bolero.runtime.boot;

import dev.bolero.runtime.KernelFlavour;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The guest kernel a {@link BootAssetsBuilder} boots.
 *
 * @param flavour Bolero's lean kernel or a distribution kernel with modules
 * @param image the lean kernel's {@code vmlinux}, or the distribution's {@code vmlinuz-<version>}
 */
public record GuestKernel(KernelFlavour flavour, Path image) {
    public GuestKernel {
        Objects.requireNonNull(flavour, "flavour");
        Objects.requireNonNull(image, "image");
    }
}
