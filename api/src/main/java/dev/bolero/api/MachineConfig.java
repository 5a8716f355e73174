package dev.bolero.api;

import java.util.Map;
import java.util.Objects;

/**
 * A machine's configuration with defaults filled in, as stored and as shown on the {@link Machine}.
 *
 * @param restart when the workload is restarted after it ends on its own (default: never)
 * @param autoDestroy whether the machine is deleted when its run ends and no restart applies (default false)
 * @param stop the signal and timeout a stop uses when its request names none (default SIGTERM, 10 s)
 */
public record MachineConfig(
        String image,
        GuestResources guest,
        InitOverrides init,
        Map<String, String> env,
        RestartPolicy restart,
        Boolean autoDestroy,
        StopRequest stop) {
    public MachineConfig {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(guest, "guest");
        Objects.requireNonNull(init, "init");
        env = Map.copyOf(env);
        if (restart == null) restart = RestartPolicy.none();
        if (autoDestroy == null) autoDestroy = false;
        stop = stop == null ? StopRequest.defaults().filled() : stop.filled();
    }

    /** A configuration with the lifecycle defaults: no restarts, kept after its run, stopped with SIGTERM and 10 s. */
    public MachineConfig(String image, GuestResources guest, InitOverrides init, Map<String, String> env) {
        this(image, guest, init, env, null, null, null);
    }
}
