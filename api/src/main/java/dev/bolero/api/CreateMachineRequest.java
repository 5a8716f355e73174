package dev.bolero.api;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Body of {@code POST /api/v1/machines}. Only {@code image} is required.
 *
 * @param name unique name on the node; generated from the id when absent
 * @param image an image reference ({@code 127.0.0.1:5000/app:1}, {@code busybox}, {@code …@sha256:…})
 * @param guest virtual hardware; defaults filled by {@link GuestResources#withDefaults()}
 * @param init overrides of the image's entrypoint, cmd, workdir and user
 * @param env merged over the image's Env
 * @param start whether to start the machine at once
 * @param restart the restart policy (default: no restarts)
 * @param autoDestroy delete the machine when its run ends and no restart applies (default false)
 * @param stop the default signal and timeout of a stop (default SIGTERM, 10 s)
 * @param namespace the tenant the machine belongs to; {@value MachineConfig#DEFAULT_NAMESPACE} when absent
 * @param network network options; egress on when absent
 * @param services ports to publish on the node
 */
public record CreateMachineRequest(
        String name,
        String image,
        GuestResources guest,
        InitOverrides init,
        Map<String, String> env,
        Boolean start,
        RestartPolicy restart,
        Boolean autoDestroy,
        StopRequest stop,
        String namespace,
        NetworkOptions network,
        List<ServicePort> services) {

    /** A request with every default: no restarts, kept after its run, default namespace, egress, nothing published. */
    public CreateMachineRequest(
            String name, String image, GuestResources guest, InitOverrides init, Map<String, String> env,
            Boolean start) {
        this(name, image, guest, init, env, start, null, null, null, null, null, null);
    }

    public CreateMachineRequest {
        if (image == null || image.isBlank()) throw ApiException.invalid("image is required");
        if (name != null && !name.matches("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")) {
            throw ApiException.invalid(
                    "name must be 1-63 lowercase letters, digits or '-', not starting or ending with '-', got '"
                            + name + "'");
        }
        env = env == null ? Map.of() : new TreeMap<>(env);
        env.forEach((k, v) -> {
            if (k.isEmpty() || k.contains("=") || k.indexOf('\0') >= 0) {
                throw ApiException.invalid("env name '" + k + "' is not a valid variable name");
            }
            if (v == null || v.indexOf('\0') >= 0) {
                throw ApiException.invalid("env " + k + " must be a string without NUL characters");
            }
        });
        env = java.util.Collections.unmodifiableMap(env);
        services = services == null ? null : List.copyOf(services);
    }

    /** The machine configuration this request describes, with defaults filled in. */
    public MachineConfig config() {
        return new MachineConfig(
                image, guest == null ? new GuestResources(null, null).withDefaults() : guest.withDefaults(),
                init == null ? InitOverrides.none() : init, env, restart, autoDestroy, stop, namespace, network,
                services);
    }

    /** Whether to start the machine at once (default no). */
    public boolean startNow() {
        return Boolean.TRUE.equals(start);
    }
}
