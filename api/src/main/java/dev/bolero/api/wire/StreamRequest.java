package dev.bolero.api.wire;

import dev.bolero.api.ApiException;
import java.net.URI;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A public request waiting for bytes from a node (logs, events, exec), delivered in the node's assignments. The agent
 * answers it once by sending {@code POST {server}/v1/nodes/{node}/streams/{id}} whose body is its node API's answer
 * to the same request, as it comes (see {@code docs/cluster-protocol.md} §6).
 *
 * @param id the stream's id
 * @param machineId the machine, under the id the node API shows it; for kind {@code volume}, the volume's id
 * @param kind {@code logs} ({@code GET …/logs}), {@code events} ({@code GET …/events}), {@code stats}
 *     ({@code GET …/stats}), {@code exec}
 *     ({@code POST …/exec}), {@code volume} (the node API's {@code GET /api/v1/volumes/{id}/blocks}: a pass of a
 *     moving volume's blocks) or {@code exec_ws} (the node API's exec WebSocket, {@code GET …/exec}: the agent bridges
 *     it to a WebSocket it opens at the same server path, message for message)
 * @param params the node API's query parameters ({@code follow}, {@code tail}, … for logs)
 * @param body the node API request's JSON body (exec), or null
 * @param server the base URL of the server replica holding the public request: the agent answers there
 * @throws ApiException ({@code invalid_argument}) when a field is missing or the kind is unknown
 */
public record StreamRequest(String id, String machineId, String kind, Map<String, String> params, String body,
                            URI server) {
    /** The kinds of stream. */
    public static final Set<String> KINDS = Set.of("logs", "events", "stats", "exec", "exec_ws", "volume");

    public StreamRequest {
        if (id == null || id.isBlank()) throw ApiException.invalid("stream request: id is required");
        if (machineId == null || machineId.isBlank()) {
            throw ApiException.invalid("stream request " + id + ": machine_id is required");
        }
        if (!KINDS.contains(kind)) throw ApiException.invalid("stream request " + id + ": unknown kind '" + kind + "'");
        if (server == null) throw ApiException.invalid("stream request " + id + ": server is required");
        params = params == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(params));
    }
}
