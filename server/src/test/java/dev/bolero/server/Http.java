package dev.bolero.server;

import dev.bolero.api.ApiJson;
import dev.bolero.api.testing.ApiContract;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * A small JSON client for tests: an instance for one server's base URL (or several replicas'), {@link #call} for any
 * URL. Calls throw
 * {@link UncheckedIOException} naming the request when it cannot be sent or answered.
 *
 * <p>Every answer of the public API is checked against the document the server serves at {@code /v1/openapi.json}
 * ({@link ApiContract}): an answer the document does not describe fails the test with an {@link AssertionError}. The
 * node-to-server protocol ({@code /v1/nodes/join}, assignments, heartbeats, streams, volume moves' and snapshot
 * copies' passes), described in
 * {@code docs/cluster-protocol.md} and not in the document, is not checked.
 */
public final class Http {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<String> bases;
    /** The index in {@link #bases} of the replica that answered last. */
    private final AtomicInteger current = new AtomicInteger();

    Http(int port) {
        this(List.of(port));
    }

    /**
     * A client of several replicas of one cluster on loopback {@code ports}: a request whose connection one refuses
     * (so none of it was sent, whatever its method) goes to the next; the replica that answered gets the next request.
     * Any other failure to send or be answered is thrown, as the request may or may not have been carried out.
     */
    Http(List<Integer> ports) {
        this.bases = ports.stream().map(p -> "http://127.0.0.1:" + p).toList();
    }

    private static final Pattern PROTOCOL =
            Pattern.compile("/v1/nodes/(join|[^/]+/(assignments|heartbeat|(streams|volume-moves|snapshot-copies)/.*))");

    /** An HTTP answer; {@code headers} by lowercase name. */
    public record Response(int status, String body, Map<String, List<String>> headers) {
        public Response(int status, String body) {
            this(status, body, Map.of());
        }

        /** The first value of header {@code name}. */
        public Optional<String> header(String name) {
            return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of()).stream().findFirst();
        }

        public JsonNode json() {
            return ApiJson.mapper().readTree(body);
        }

        public String errorCode() {
            return json().path("error").path("code").asString();
        }

        public String errorMessage() {
            return json().path("error").path("message").asString();
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    Response get(String path, String token) {
        return send("GET", path, token, null);
    }

    Response post(String path, String token, Object body) {
        return send("POST", path, token, body);
    }

    Response put(String path, String token, Object body) {
        return send("PUT", path, token, body);
    }

    Response delete(String path, String token) {
        return send("DELETE", path, token, null);
    }

    Response send(String method, String path, String token, Object body) {
        int first = current.get();
        for (int i = 0; ; i++) {
            int at = (first + i) % bases.size();
            try {
                Response response = call(method, bases.get(at) + path, token, body);
                current.set(at);
                return response;
            } catch (UncheckedIOException e) {
                if (!(e.getCause() instanceof ConnectException) || i == bases.size() - 1) throw e;
            }
        }
    }

    /** Fails the test when the answer is not what the server's document says (protocol paths aside). */
    private static void checkContract(String method, URI url, HttpResponse<String> response) {
        String path = url.getRawPath();
        if (!path.startsWith("/v1/") || PROTOCOL.matcher(path).matches()) return;
        ApiContract.check(url.getScheme() + "://" + url.getRawAuthority() + "/v1/openapi.json", method, path,
                response.statusCode(), response.headers().firstValue("Content-Type").orElse(null), response.body());
    }

    /**
     * Sends {@code body} (a JSON string as is, any other object as JSON; null for none) to {@code url} with
     * {@code token} as the bearer token (null for none) and returns the answer, whatever its status.
     */
    public static Response call(String method, String url, String token, Object body) {
        return call(method, url, token, body, "application/json");
    }

    /** The same, with the request's {@code Content-Type} (null for none). */
    public static Response call(String method, String url, String token, Object body, String contentType) {
        String text = body == null ? "" : body instanceof String s ? s : ApiJson.mapper().writeValueAsString(body);
        var request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(text));
        if (contentType != null) request.header("Content-Type", contentType);
        if (token != null) request.header("Authorization", "Bearer " + token);
        try {
            var response = CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
            var headers = new java.util.TreeMap<String, List<String>>();
            response.headers().map().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), v));
            checkContract(method, URI.create(url), response);
            return new Response(response.statusCode(), response.body(), headers);
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + url + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(method + " " + url + ": interrupted", e);
        }
    }
}
