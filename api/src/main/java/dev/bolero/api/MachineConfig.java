package dev.bolero.api;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A machine's configuration with defaults filled in, as stored and as shown on the {@link Machine}.
 *
 * @param restart when the workload is restarted after it ends on its own (default: never)
 * @param autoDestroy whether the machine is deleted when its run ends and no restart applies (default false)
 * @param stop the signal and timeout a stop uses when its request names none (default SIGTERM, 10 s)
 * @param namespace the tenant the machine belongs to: a DNS label, default {@value #DEFAULT_NAMESPACE}; machines of
 *     different namespaces cannot reach each other
 * @param network network options; egress on when absent
 * @param services ports published on the node; none when absent
 * @throws ApiException {@code invalid_argument} when the namespace is not a DNS label or a protocol and port is
 *     published twice
 */
public record MachineConfig(
        String image,
        GuestResources guest,
        InitOverrides init,
        Map<String, String> env,
        RestartPolicy restart,
        Boolean autoDestroy,
        StopRequest stop,
        String namespace,
        NetworkOptions network,
        List<ServicePort> services) {

    public static final String DEFAULT_NAMESPACE = "default";

    public MachineConfig {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(guest, "guest");
        Objects.requireNonNull(init, "init");
        env = Map.copyOf(env);
        if (restart == null) restart = RestartPolicy.none();
        if (autoDestroy == null) autoDestroy = false;
        stop = stop == null ? StopRequest.defaults().filled() : stop.filled();
        if (namespace == null) namespace = DEFAULT_NAMESPACE;
        if (!namespace.matches("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")) {
            throw ApiException.invalid("namespace must be 1-63 lowercase letters, digits or '-', not starting or "
                    + "ending with '-', got '" + namespace + "'");
        }
        network = network == null ? NetworkOptions.defaults() : network.withDefaults();
        services = services == null ? List.of() : List.copyOf(services);
        var seen = new HashSet<String>();
        for (ServicePort s : services) {
            if (!seen.add(s.protocol() + "/" + s.port())) {
                throw ApiException.invalid("services: " + s.protocol() + " port " + s.port() + " is published twice");
            }
        }
    }

    /**
     * A configuration with every default: no restarts, kept after its run, stopped with SIGTERM and 10 s, in
     * namespace {@value #DEFAULT_NAMESPACE}, with egress and nothing published.
     */
    public MachineConfig(String image, GuestResources guest, InitOverrides init, Map<String, String> env) {
        this(image, guest, init, env, null, null, null, null, null, null);
    }
}
