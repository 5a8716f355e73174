package dev.bolero.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** A VMM a node can run machines with, and a machine may ask for. */
public enum Driver {
    QEMU, FIRECRACKER, CLOUD_HYPERVISOR;

    /** The name on the wire and in messages: {@code qemu}, {@code firecracker}, {@code cloud-hypervisor}. */
    @JsonValue
    public String wireName() {
        return WireNames.of(this);
    }

    /**
     * The driver with this wire name.
     *
     * @throws ValidationException naming the value and the known drivers
     */
    @JsonCreator
    public static Driver parse(String wireName) {
        return WireNames.parse(Driver.class, "driver", wireName);
    }
}
