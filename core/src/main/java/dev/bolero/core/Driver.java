package dev.bolero.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;

/** A VMM a node can run machines with, and a machine may ask for. */
public enum Driver {
    QEMU, FIRECRACKER, CLOUD_HYPERVISOR;

    /** The name on the wire and in messages: {@code qemu}, {@code firecracker}, {@code cloud-hypervisor}. */
    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * The driver with this wire name.
     *
     * @throws ValidationException naming the value and the known drivers
     */
    @JsonCreator
    public static Driver parse(String wireName) {
        for (Driver d : values()) {
            if (d.wireName().equals(wireName)) return d;
        }
        throw new ValidationException("unknown driver '" + wireName + "' (one of "
                + String.join(", ", Arrays.stream(values()).map(Driver::wireName).toList()) + ")");
    }
}
