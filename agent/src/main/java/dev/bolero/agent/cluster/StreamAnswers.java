package dev.bolero.agent.cluster;

import dev.bolero.api.ApiError;
import dev.bolero.api.ApiJson;
import dev.bolero.api.ErrorCode;
import dev.bolero.api.wire.JoinResponse;
import dev.bolero.api.wire.StreamRequest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.SubmissionPublisher;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers the control plane's stream requests ({@code docs/cluster-protocol.md} §6): for each new one, the same request
 * to this node's API, whose status, content type and body (as it comes: a followed log flows line by line) go up in
 * {@code POST {server}/v1/nodes/{node}/streams/{id}}. When the server ends that request (its client left, or it
 * relayed everything), the node API request is closed too, so nothing outlives the public request. An {@code exec_ws}
 * request bridges the node API's exec WebSocket to one opened at that same server path, message for message, without
 * interpreting them; a close on either side closes the other.
 */
final class StreamAnswers implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StreamAnswers.class);
    static final String STATUS_HEADER = "Bolero-Status";

    private final JoinResponse node;
    private final URI nodeApi;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .executor(threads).build();
    /** Streams started and not yet seen absent from an assignments answer (the server deletes answered ones). */
    private final Set<String> started = ConcurrentHashMap.newKeySet();

    StreamAnswers(JoinResponse node, URI nodeApi) {
        this.node = node;
        this.nodeApi = nodeApi;
    }

    /** Starts answering the requests not started yet; forgets those no longer listed. */
    void answer(List<StreamRequest> requests) {
        started.retainAll(requests.stream().map(StreamRequest::id).collect(Collectors.toSet()));
        for (StreamRequest request : requests) {
            if (started.add(request.id())) threads.submit(() -> relay(request));
        }
    }

    private void relay(StreamRequest request) {
        String what = request.kind() + " of machine " + request.machineId() + " (stream " + request.id() + ")";
        if (request.kind().equals("exec_ws")) {
            bridge(request, what);
            return;
        }
        Answer local = ask(request, what);
        // Pushed, not pulled: the client's own InputStream publisher holds a chunk back until the next read returns,
        // so a followed log's last line would wait for the one after it.
        var body = new SubmissionPublisher<ByteBuffer>(threads, 16);
        var subscribed = new CompletableFuture<Void>();
        var upload = HttpRequest.newBuilder(request.server().resolve(
                        "/v1/nodes/" + node.nodeId() + "/streams/" + request.id()))
                .header("Authorization", "Bearer " + node.credential())
                .header(STATUS_HEADER, Integer.toString(local.status()))
                .header("Content-Type", local.contentType())
                .POST(HttpRequest.BodyPublishers.fromPublisher(subscriber -> {
                    body.subscribe(subscriber);
                    subscribed.complete(null);
                }))
                .build();
        CompletableFuture<HttpResponse<String>> sent = http.sendAsync(upload, HttpResponse.BodyHandlers.ofString());
        // However the upload ends (relayed, the public client left, the server went away), the node API request ends.
        sent.whenComplete((response, failure) -> closeQuietly(local.body()));
        try {
            CompletableFuture.anyOf(subscribed, sent).get();    // what is submitted before has no one to go to
        } catch (ExecutionException e) {
            // the upload failed before it began: reported below
        } catch (InterruptedException e) {
            sent.cancel(true);
            return;
        }
        pump(local.body(), body);
        try {
            HttpResponse<String> response = sent.get();
            if (response.statusCode() / 100 != 2) {
                log.warn("answer {} to {}: HTTP {} {}", what, request.server(), response.statusCode(), response.body());
            }
        } catch (ExecutionException e) {
            log.debug("answer {} to {} ended: {}", what, request.server(), e.getCause().toString());
        } catch (InterruptedException e) {
            sent.cancel(true);
            closeQuietly(local.body());
        }
    }

    /**
     * Bridges the node API's exec WebSocket (its attach socket when the request's {@code attach} parameter is
     * {@code true}) and one to the server until either side closes.
     */
    private void bridge(StreamRequest request, String what) {
        var toServer = new CompletableFuture<WebSocket>();
        var toNode = new CompletableFuture<WebSocket>();
        var done = new CompletableFuture<Void>();
        String socket = "true".equals(request.params().get("attach")) ? "/attach" : "/exec";
        URI local = websocket(nodeApi.resolve("/api/v1/machines/" + request.machineId() + socket));
        URI upstream = websocket(request.server().resolve("/v1/nodes/" + node.nodeId() + "/streams/" + request.id()));
        String refused = null;
        try {
            toNode.complete(http.newWebSocketBuilder().buildAsync(local, new Forward(toServer, done)).get());
        } catch (ExecutionException e) {
            refused = "internal: " + what + ": the node API refused the exec socket: " + e.getCause().getMessage();
        } catch (InterruptedException e) {
            return;
        }
        try {
            WebSocket server = http.newWebSocketBuilder().header("Authorization", "Bearer " + node.credential())
                    .buildAsync(upstream, new Forward(toNode, done)).get();
            toServer.complete(server);
            if (refused != null) {
                server.sendClose(1011, refused.length() > 120 ? refused.substring(0, 120) : refused);
                return;
            }
            done.get();
        } catch (ExecutionException e) {
            log.warn("answer {} to {}: {}", what, request.server(), e.getCause().toString());
            toNode.thenAccept(WebSocket::abort);
        } catch (InterruptedException e) {
            toNode.thenAccept(WebSocket::abort);
            toServer.thenAccept(WebSocket::abort);
        }
    }

    private static URI websocket(URI http) {
        String scheme = http.getScheme().equals("https") ? "wss" : "ws";
        return URI.create(scheme + http.toString().substring(http.getScheme().length()));
    }

    /** Sends each message one side receives to the other side, as it is, one at a time. */
    private static final class Forward implements WebSocket.Listener {
        private final CompletableFuture<WebSocket> other;
        private final CompletableFuture<Void> done;

        Forward(CompletableFuture<WebSocket> other, CompletableFuture<Void> done) {
            this.other = other;
            this.done = done;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            String text = data.toString();
            return other.thenCompose(o -> o.sendText(text, last)).whenComplete((o, e) -> next(ws, e));
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            ByteBuffer copy = ByteBuffer.allocate(data.remaining()).put(data).flip();
            return other.thenCompose(o -> o.sendBinary(copy, last)).whenComplete((o, e) -> next(ws, e));
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
            int sendable = code == 1005 || code == 1006 || code == 1015 ? 1000 : code;
            other.thenAccept(o -> o.sendClose(sendable, reason).exceptionally(e -> null));
            done.complete(null);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            other.thenAccept(WebSocket::abort);
            done.complete(null);
        }

        private void next(WebSocket ws, Throwable failed) {
            if (failed == null) {
                ws.request(1);
            } else {
                ws.abort();
                done.complete(null);
            }
        }
    }

    /** Sends what {@code in} gives as it comes, until its end (or until it is closed because the upload ended). */
    private static void pump(InputStream in, SubmissionPublisher<ByteBuffer> body) {
        try (body) {
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                if (n > 0) body.submit(ByteBuffer.wrap(Arrays.copyOf(buffer, n)));
            }
        } catch (IOException e) {
            body.closeExceptionally(e);
        }
    }

    /** The node API's answer. */
    private record Answer(int status, String contentType, InputStream body) {}

    private Answer ask(StreamRequest request, String what) {
        String path = (request.kind().equals("volume") ? "/api/v1/volumes/" + request.machineId() + "/blocks"
                : "/api/v1/machines/" + request.machineId() + "/" + request.kind()) + query(request.params());
        var builder = HttpRequest.newBuilder(nodeApi.resolve(path));
        if (request.body() != null) {
            builder.header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(request.body()));
        } else {
            builder.GET();
        }
        try {
            HttpResponse<InputStream> response = http.send(builder.build(), HttpResponse.BodyHandlers.ofInputStream());
            return new Answer(response.statusCode(),
                    response.headers().firstValue("Content-Type").orElse("application/octet-stream"), response.body());
        } catch (IOException e) {
            String message = what + ": the node API at " + nodeApi + " did not answer: " + e;
            return new Answer(500, "application/json", new ByteArrayInputStream(
                    ApiJson.mapper().writeValueAsBytes(ApiError.of(ErrorCode.INTERNAL, message))));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer(503, "application/json", new ByteArrayInputStream(ApiJson.mapper().writeValueAsBytes(
                    ApiError.of(ErrorCode.UNAVAILABLE, what + ": the agent is shutting down"))));
        }
    }

    private static String query(Map<String, String> params) {
        if (params.isEmpty()) return "";
        return params.entrySet().stream()
                .map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
                .collect(Collectors.joining("&", "?", ""));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException e) {
            // the request is over either way
        }
    }

    /** Ends every stream this node is answering. */
    @Override
    public void close() {
        threads.shutdownNow();
        http.shutdownNow();
    }
}
