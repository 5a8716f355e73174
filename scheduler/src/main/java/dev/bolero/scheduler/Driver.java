package dev.bolero.scheduler;

import java.util.Arrays;
import java.util.Locale;

/** A VMM a node can run machines with. */
public enum Driver {
    QEMU,
    FIRECRACKER,
    CLOUD_HYPERVISOR;

    /** The name used on the wire and in messages: {@code qemu}, {@code firecracker}, {@code cloud-hypervisor}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * Returns the driver with this wire name.
     *
     * @throws IllegalArgumentException when no driver has that name
     */
    public static Driver parse(String wireName) {
        return Arrays.stream(values())
                .filter(d -> d.wireName().equals(wireName))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("driver: unknown name '" + wireName + "'"));
    }
}
