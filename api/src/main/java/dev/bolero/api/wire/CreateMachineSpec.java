package dev.bolero.api.wire;

import dev.bolero.api.ApiException;
import dev.bolero.api.CreateMachineRequest;
import dev.bolero.api.GuestResources;
import dev.bolero.api.InitOverrides;
import dev.bolero.api.MachineConfig;
import dev.bolero.api.NetworkOptions;
import dev.bolero.api.RestartPolicy;
import dev.bolero.api.ServicePort;
import dev.bolero.api.StopRequest;
import java.util.List;
import java.util.Map;

/**
 * Body of {@code POST /v1/namespaces/{ns}/fleets/{fleet}/machines}: the node API's machine request
 * ({@link CreateMachineRequest}, same fields and rules) plus placement. The machine's namespace is the tenant in the
 * URL: the body must not name one. Its fields go over the fleet's {@link MachineTemplate} ({@link #over}), so
 * {@code image} may be absent here when the fleet's config has one; {@link #config} refuses a spec without one.
 *
 * <p>{@code restart} is the one restart policy: the node restarts the workload by it, and the control plane follows it
 * when the machine's node is lost or drained — {@code on-failure} and {@code always} move the machine to another node
 * (losing a node is a failure), {@code no} leaves it {@code failed} (node lost) or {@code stopped} (node drained).
 * Unlike on a single node, the default is {@code on-failure} with unlimited retries: a cluster machine outlives its node
 * unless its policy says {@code no}.
 *
 * @param image the image; the fleet's when null
 * @param restart the restart policy; the fleet's, else {@code {"policy": "on-failure"}}, when null
 * @param namespace must be absent; a value is refused
 * @param region the region of the node; the fleet's when null
 * @param nodeLabels labels the node must carry; the fleet's when null
 * @throws ApiException {@code invalid_argument} naming the bad field, as {@link CreateMachineRequest} does, or when
 *     {@code namespace} is set
 */
public record CreateMachineSpec(
        String name, String image, GuestResources guest, InitOverrides init, Map<String, String> env, Boolean start,
        RestartPolicy restart, Boolean autoDestroy, StopRequest stop, String namespace, NetworkOptions network,
        List<ServicePort> services, String region, Map<String, String> nodeLabels) {

    /** The cluster's default restart policy. */
    public static final RestartPolicy DEFAULT_RESTART = new RestartPolicy("on-failure", null);

    /** Stands in for an absent image while the other fields are checked: an image is only required by {@link #config}. */
    private static final String IMAGE_CHECKED_LATER = "image.invalid/absent";

    public CreateMachineSpec {
        if (namespace != null) {
            throw ApiException.invalid("namespace must not be set in the body: a machine's namespace is the one in "
                    + "its URL (/v1/namespaces/{ns}/…), got '" + namespace + "'");
        }
        if (region != null && region.isBlank()) throw ApiException.invalid("region must not be blank");
        if (nodeLabels != null) {
            nodeLabels = FleetSpec.Labels.check("node_labels", nodeLabels);
            if (nodeLabels.containsKey("region")) {
                throw ApiException.invalid("node_labels: put the region in 'region', not in node_labels");
            }
        }
        var request = node(name, image == null ? IMAGE_CHECKED_LATER : image, guest, init, env, start, restart,
                autoDestroy, stop, network, services, MachineConfig.DEFAULT_NAMESPACE);
        env = request.env();
        services = request.services();
    }

    /**
     * The configuration the node runs, validated and with defaults filled in, in namespace {@code tenant}.
     *
     * @throws ApiException {@code invalid_argument} when {@code tenant} is not a namespace name or no image is set
     */
    public MachineConfig config(String tenant) {
        return node(name, image, guest, init, env, start, restart == null ? DEFAULT_RESTART : restart, autoDestroy,
                stop, network, services, tenant).config();
    }

    /** The fields of this spec a fleet's config may also set; absent ones null, {@code env} empty when absent. */
    public MachineTemplate template() {
        return new MachineTemplate(image, guest, init, env, restart, autoDestroy, stop, network, services);
    }

    /** This spec with its fields over {@code fleet}'s config, as {@link MachineTemplate#over} combines them. */
    public CreateMachineSpec over(MachineTemplate fleet) {
        var t = template().over(fleet);
        return new CreateMachineSpec(name, t.image(), t.guest(), t.init(), t.env(), start, t.restart(),
                t.autoDestroy(), t.stop(), namespace, t.network(), t.services(), region, nodeLabels);
    }

    /** Whether to start the machine at once (default no). */
    public boolean startNow() {
        return Boolean.TRUE.equals(start);
    }

    private static CreateMachineRequest node(
            String name, String image, GuestResources guest, InitOverrides init, Map<String, String> env,
            Boolean start, RestartPolicy restart, Boolean autoDestroy, StopRequest stop, NetworkOptions network,
            List<ServicePort> services, String tenant) {
        var request = new CreateMachineRequest(name, image, guest, init, env, start, restart, autoDestroy, stop,
                tenant, network, services);
        request.config();
        return request;
    }
}
