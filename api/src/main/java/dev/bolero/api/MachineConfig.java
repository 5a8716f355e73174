package dev.bolero.api;

import java.util.Map;
import java.util.Objects;

/** A machine's configuration with defaults filled in, as stored and as shown on the {@link Machine}. */
public record MachineConfig(String image, GuestResources guest, InitOverrides init, Map<String, String> env) {
    public MachineConfig {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(guest, "guest");
        Objects.requireNonNull(init, "init");
        env = Map.copyOf(env);
    }
}
