package dev.bolero.api.wire;

import dev.bolero.api.ApiException;
import dev.bolero.api.CreateMachineRequest;
import dev.bolero.api.GuestResources;
import dev.bolero.api.InitOverrides;
import dev.bolero.api.MachineConfig;
import java.util.Map;

/**
 * Body of {@code POST /v1/namespaces/{ns}/fleets/{fleet}/machines}: the node API's machine request
 * ({@link CreateMachineRequest}) plus placement.
 *
 * @param region the region of the node; the fleet's when null
 * @param nodeLabels labels the node must carry; the fleet's when null
 * @param restart what happens when the node is lost or drained; default {@code always}
 */
public record CreateMachineSpec(
        String name, String image, GuestResources guest, InitOverrides init, Map<String, String> env, Boolean start,
        String region, Map<String, String> nodeLabels, RestartPolicy restart) {

    public CreateMachineSpec {
        node(name, image, guest, init, env, start);
        if (region != null && region.isBlank()) throw ApiException.invalid("region must not be blank");
        if (nodeLabels != null) {
            nodeLabels = FleetSpec.Labels.check("node_labels", nodeLabels);
            if (nodeLabels.containsKey("region")) {
                throw ApiException.invalid("node_labels: put the region in 'region', not in node_labels");
            }
        }
        if (restart == null) restart = RestartPolicy.ALWAYS;
    }

    /** The configuration the node runs, validated and with defaults filled in. */
    public MachineConfig config() {
        return node(name, image, guest, init, env, start).config();
    }

    /** Whether to start the machine at once (default no). */
    public boolean startNow() {
        return Boolean.TRUE.equals(start);
    }

    private static CreateMachineRequest node(String name, String image, GuestResources guest, InitOverrides init,
                                             Map<String, String> env, Boolean start) {
        var request = new CreateMachineRequest(name, image, guest, init, env, start);
        request.config();
        return request;
    }
}
