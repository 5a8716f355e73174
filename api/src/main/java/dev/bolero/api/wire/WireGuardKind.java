package dev.bolero.api.wire;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Which WireGuard implementation carries a node's private-network link. */
public enum WireGuardKind {
    /** The kernel's WireGuard module. */
    KERNEL,
    /** {@code wireguard-go}, where the kernel has no WireGuard. */
    USERSPACE;

    /** {@code kernel} or {@code userspace}. */
    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
