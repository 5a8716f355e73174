package dev.bolero.api;

import dev.bolero.api.wire.Names;
import dev.bolero.core.FieldPath;
import dev.bolero.core.MachineSpec;

/**
 * Body of {@code POST /api/v1/machines}: the machine's {@code config} plus what only a create says.
 *
 * @param name unique name on the node; generated from the id when absent
 * @param namespace the tenant the machine belongs to: a DNS label, default {@value #DEFAULT_NAMESPACE}; machines of
 *     different namespaces cannot reach each other
 * @param start whether to start the machine at once (default no)
 * @param config the machine's configuration; only {@code config.image} is required
 * @throws ApiException {@code invalid_argument} naming the bad field
 */
public record CreateMachineRequest(String name, String namespace, Boolean start, MachineSpec config) {
    public static final String DEFAULT_NAMESPACE = "default";

    public CreateMachineRequest {
        if (name != null) Names.check("name", name);
        namespace = namespace == null ? DEFAULT_NAMESPACE : Names.check("namespace", namespace);
        FieldPath.CONFIG.required(config);
    }

    /** A request for a machine of the default namespace, named from its id. */
    public static CreateMachineRequest of(MachineSpec config, boolean start) {
        return new CreateMachineRequest(null, null, start, config);
    }

    /** Whether to start the machine at once (default no). */
    public boolean startNow() {
        return Boolean.TRUE.equals(start);
    }
}
