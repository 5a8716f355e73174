package dev.bolero.agent.cluster;

import dev.bolero.api.ApiJson;
import dev.bolero.api.wire.Assignments;
import dev.bolero.api.wire.Heartbeat;
import dev.bolero.api.wire.HeartbeatResponse;
import dev.bolero.api.wire.JoinRequest;
import dev.bolero.api.wire.JoinResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import tools.jackson.databind.json.JsonMapper;

/**
 * The node protocol's three calls over HTTP. Every failure (connection, non-2xx status, bad body) is a
 * {@link Failure} naming the call and the server's answer.
 */
final class NodeProtocol {
    private static final JsonMapper JSON = ApiJson.mapper();

    private final URI server;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    NodeProtocol(URI server) {
        this.server = server;
    }

    /** A call that did not succeed; {@code status} is 0 when no answer came. */
    static final class Failure extends RuntimeException {
        final int status;

        Failure(String message, int status, Throwable cause) {
            super(message, cause);
            this.status = status;
        }
    }

    JoinResponse join(String joinToken, JoinRequest request) {
        return call("join " + server + " as " + request.name(), "/v1/nodes/join", joinToken, request,
                Duration.ofSeconds(30), JoinResponse.class);
    }

    Assignments assignments(JoinResponse node, long index, int waitS) {
        return call("poll assignments of node " + node.nodeId(),
                "/v1/nodes/" + node.nodeId() + "/assignments?index=" + index + "&wait_s=" + waitS,
                node.credential(), null, Duration.ofSeconds(waitS + 15L), Assignments.class);
    }

    HeartbeatResponse heartbeat(JoinResponse node, Heartbeat heartbeat, Duration timeout) {
        return call("heartbeat of node " + node.nodeId(), "/v1/nodes/" + node.nodeId() + "/heartbeat",
                node.credential(), heartbeat, timeout, HeartbeatResponse.class);
    }

    private <T> T call(String action, String path, String token, Object body, Duration timeout, Class<T> type) {
        var request = HttpRequest.newBuilder(server.resolve(path)).timeout(timeout)
                .header("Authorization", "Bearer " + token);
        if (body == null) {
            request.GET();
        } else {
            request.header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new Failure(action + ": " + e, 0, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(action + ": interrupted", 0, e);
        }
        if (response.statusCode() / 100 != 2) {
            throw new Failure(action + ": HTTP " + response.statusCode() + " " + response.body(),
                    response.statusCode(), null);
        }
        try {
            return JSON.readValue(response.body(), type);
        } catch (RuntimeException e) {
            throw new Failure(action + ": unreadable answer " + response.body() + ": " + e.getMessage(),
                    response.statusCode(), e);
        }
    }
}
