package dev.bolero.server;

import dev.bolero.api.ApiJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import tools.jackson.databind.JsonNode;

/**
 * A small JSON client for tests: an instance for one server's base URL, {@link #call} for any URL. Calls throw
 * {@link UncheckedIOException} naming the request when it cannot be sent or answered.
 */
public final class Http {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;

    Http(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    /** An HTTP answer. */
    public record Response(int status, String body) {
        public JsonNode json() {
            return ApiJson.mapper().readTree(body);
        }

        public String errorCode() {
            return json().path("error").path("code").asString();
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
        return call(method, base + path, token, body);
    }

    /**
     * Sends {@code body} (a JSON string as is, any other object as JSON; null for none) to {@code url} with
     * {@code token} as the bearer token (null for none) and returns the answer, whatever its status.
     */
    public static Response call(String method, String url, String token, Object body) {
        String text = body == null ? "" : body instanceof String s ? s : ApiJson.mapper().writeValueAsString(body);
        var request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(text))
                .header("Content-Type", "application/json");
        if (token != null) request.header("Authorization", "Bearer " + token);
        try {
            var response = CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Response(response.statusCode(), response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + url + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(method + " " + url + ": interrupted", e);
        }
    }
}
