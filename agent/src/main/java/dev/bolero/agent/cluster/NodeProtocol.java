package dev.bolero.agent.cluster;

import dev.bolero.api.ApiJson;
import dev.bolero.api.wire.Assignments;
import dev.bolero.api.wire.Heartbeat;
import dev.bolero.api.wire.HeartbeatResponse;
import dev.bolero.api.wire.JoinRequest;
import dev.bolero.api.wire.JoinResponse;
import dev.bolero.api.wire.SnapshotCopyOrder;
import dev.bolero.api.wire.VolumeMoveOrder;
import dev.bolero.api.wire.VolumeMoveReport;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * The node protocol's calls over HTTP, to one of the control plane's replicas: each call goes to the replica
 * that answered last and, when that one cannot be reached (no answer, or 502/503/504), to the next in the list, which
 * then becomes the current one. Every failure (no replica reachable, another non-2xx status, bad body) is a
 * {@link Failure} naming the call, the server and its answer.
 */
final class NodeProtocol {
    private static final Logger log = LoggerFactory.getLogger(NodeProtocol.class);
    private static final JsonMapper JSON = ApiJson.mapper();

    private final List<URI> servers;
    private volatile int current;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    NodeProtocol(List<URI> servers) {
        this.servers = List.copyOf(servers);
    }

    /** The replica the next call goes to first. */
    URI server() {
        return servers.get(current);
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
        return call("join as " + request.name(), "/v1/nodes/join", joinToken, request,
                Duration.ofSeconds(30), JoinResponse.class);
    }

    Assignments assignments(JoinResponse node, long index, int waitS) {
        return call("poll assignments of node " + node.nodeId(),
                "/v1/nodes/" + node.nodeId() + "/assignments?index=" + index + "&wait_s=" + waitS,
                node.credential(), null, Duration.ofSeconds(waitS + 15L), Assignments.class);
    }

    /**
     * Sends {@code report} (recorded as a heartbeat is) and long-polls the assignments: empty when {@code waitS} passed
     * with {@code index} unchanged. A control plane older than this call answers it {@code 405}.
     */
    Polled reportAndPoll(JoinResponse node, Heartbeat report, long index, int waitS) {
        String action = "report and poll assignments of node " + node.nodeId();
        Reply<Assignments> reply = exchange(action, "/v1/nodes/" + node.nodeId() + "/assignments?index=" + index
                + "&wait_s=" + waitS, node.credential(), report, Duration.ofSeconds(waitS + 15L), Assignments.class);
        OptionalLong held = OptionalLong.empty();
        var header = reply.headers().firstValue(Heartbeat.HELD_MS_HEADER);
        if (reply.body() == null && header.isPresent()) {
            try {
                held = OptionalLong.of(Long.parseLong(header.get()));
            } catch (NumberFormatException e) {
                log.warn("{}: {} '{}' is not a number of milliseconds; not counted", action, Heartbeat.HELD_MS_HEADER,
                        header.get());
            }
        }
        return new Polled(Optional.ofNullable(reply.body()), held);
    }

    /**
     * A report-and-poll's answer.
     *
     * @param assignments the node's assignments; empty when the wait ended with the index unchanged ({@code 204})
     * @param heldMillis for a {@code 204} whose server recorded the node's heartbeat again when the wait ended: how
     *     many milliseconds after taking the report ({@link Heartbeat#HELD_MS_HEADER}); empty otherwise (an older
     *     server)
     */
    record Polled(Optional<Assignments> assignments, OptionalLong heldMillis) {}

    HeartbeatResponse heartbeat(JoinResponse node, Heartbeat heartbeat, Duration timeout) {
        return call("heartbeat of node " + node.nodeId(), "/v1/nodes/" + node.nodeId() + "/heartbeat",
                node.credential(), heartbeat, timeout, HeartbeatResponse.class);
    }

    /**
     * The blocks of pass {@code order.pass()} of a volume moving to this node, relayed by the control plane from the
     * volume's node, as they come.
     */
    InputStream volumeBlocks(JoinResponse node, VolumeMoveOrder order) {
        return blocks(node, "/volume-moves/" + order.move() + "/blocks?pass=" + order.pass(), "pull pass "
                + order.pass() + " of volume " + order.volumeId() + " (move " + order.move() + ")");
    }

    /**
     * The blocks of a snapshot this node copies, relayed by the control plane from the node it was taken on, as they
     * come.
     */
    InputStream snapshotBlocks(JoinResponse node, SnapshotCopyOrder order) {
        return blocks(node, "/snapshot-copies/" + order.copy() + "/blocks", "pull snapshot " + order.snapshotId()
                + " (copy " + order.copy() + ")");
    }

    /** The block stream at {@code path} under this node's protocol URL ({@code what}: the pull, for errors). */
    private InputStream blocks(JoinResponse node, String path, String what) {
        URI server = server();
        what = what + " at " + server;
        var request = HttpRequest.newBuilder(server.resolve("/v1/nodes/" + node.nodeId() + path))
                .header("Authorization", "Bearer " + node.credential()).GET().build();
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            if (response.statusCode() != 200) {
                String body;
                try (InputStream in = response.body()) {
                    body = new String(in.readNBytes(4096), java.nio.charset.StandardCharsets.UTF_8);
                }
                throw new Failure(what + ": HTTP " + response.statusCode() + " " + body, response.statusCode(), null);
            }
            return response.body();
        } catch (IOException e) {
            throw new Failure(what + ": " + e, 0, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(what + ": interrupted", 0, e);
        }
    }

    /** Tells the control plane how this node's copy of a snapshot went. */
    void reportCopy(JoinResponse node, String copy, VolumeMoveReport report) {
        call("report snapshot copy " + copy, "/v1/nodes/" + node.nodeId() + "/snapshot-copies/" + copy,
                node.credential(), report, Duration.ofSeconds(30), tools.jackson.databind.JsonNode.class);
    }

    /** Tells the control plane how a pass of a volume moving to this node went. */
    void reportMove(JoinResponse node, String move, VolumeMoveReport report) {
        call("report pass " + report.pass() + " of volume move " + move, "/v1/nodes/" + node.nodeId()
                + "/volume-moves/" + move, node.credential(), report, Duration.ofSeconds(30),
                tools.jackson.databind.JsonNode.class);
    }

    /** The answer to a POST of {@code body} (a GET when null) read as {@code type}; null for {@code 204}. */
    private <T> T call(String action, String path, String token, Object body, Duration timeout, Class<T> type) {
        return exchange(action, path, token, body, timeout, type).body();
    }

    /** An answer's body ({@code null} for {@code 204}) and headers. */
    private record Reply<T>(T body, HttpHeaders headers) {}

    /** {@link #call}, with the answer's headers. */
    private <T> Reply<T> exchange(String action, String path, String token, Object body, Duration timeout,
                                  Class<T> type) {
        int first = current;
        Failure unreachable = null;
        for (int tried = 0; tried < servers.size(); tried++) {
            int i = (first + tried) % servers.size();
            try {
                Reply<T> answer = call(servers.get(i), action, path, token, body, timeout, type);
                if (i != current) {
                    log.info("control plane: now talking to {} ({} did not answer)", servers.get(i), servers.get(current));
                    current = i;
                }
                return answer;
            } catch (Failure e) {
                if (!unreachable(e) || Thread.currentThread().isInterrupted()) throw e;
                unreachable = e;
            }
        }
        throw unreachable;
    }

    private static boolean unreachable(Failure e) {
        return e.status == 0 || e.status == 502 || e.status == 503 || e.status == 504;
    }

    private <T> Reply<T> call(URI server, String action, String path, String token, Object body, Duration timeout,
                              Class<T> type) {
        String what = action + " at " + server;
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
            throw new Failure(what + ": " + e, 0, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(what + ": interrupted", 0, e);
        }
        if (response.statusCode() / 100 != 2) {
            throw new Failure(what + ": HTTP " + response.statusCode() + " " + response.body(),
                    response.statusCode(), null);
        }
        if (response.statusCode() == 204) return new Reply<>(null, response.headers());
        try {
            return new Reply<>(JSON.readValue(response.body(), type), response.headers());
        } catch (tools.jackson.core.JacksonException e) {
            // Neither the body nor Jackson's message (which may quote it), nor it as the cause: an assignments answer
            // carries secrets' values.
            throw new Failure(what + ": unreadable answer of " + response.body().length() + " characters: "
                    + ApiJson.refusal("read it", e).getMessage(), response.statusCode(), null);
        }
    }
}
