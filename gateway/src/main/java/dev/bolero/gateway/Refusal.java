package dev.bolero.gateway;

import dev.bolero.api.ApiError;
import dev.bolero.api.ApiJson;
import dev.bolero.api.ErrorCode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.PreEncodedHttpField;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Every answer the gateway gives itself instead of a machine's, each with its one HTTP status and API error code.
 * The body is the API's error JSON ({@code {"error": {"code", "message"}}}), or a short HTML page for browsers.
 */
enum Refusal {
    /** No fleet answers to the request's host name. */
    UNKNOWN_HOST(404, ErrorCode.NOT_FOUND),
    /** The fleet has no healthy machine and does not start one on request. */
    NO_MACHINE(503, ErrorCode.UNAVAILABLE),
    /** Every healthy machine of the fleet is at its hard concurrency limit. */
    AT_CAPACITY(503, ErrorCode.UNAVAILABLE),
    /** A machine was asked for but none became healthy before the deadline. */
    WAKE_TIMEOUT(503, ErrorCode.UNAVAILABLE),
    /** The machines tried could not be reached, or dropped the exchange. */
    MACHINE_FAILED(502, ErrorCode.UNAVAILABLE);

    private static final HttpField JSON = new PreEncodedHttpField(HttpHeader.CONTENT_TYPE, "application/json");
    private static final HttpField HTML = new PreEncodedHttpField(HttpHeader.CONTENT_TYPE, "text/html; charset=utf-8");
    private static final HttpField NO_STORE = new PreEncodedHttpField(HttpHeader.CACHE_CONTROL, "no-store");
    private static final HttpField RETRY_AFTER = new PreEncodedHttpField(HttpHeader.RETRY_AFTER, "1");

    final int status;
    private final ErrorCode code;

    Refusal(int status, ErrorCode code) {
        this.status = status;
        this.code = code;
    }

    /** Answers the request with this refusal; {@code message} names what failed and for which host or fleet. */
    void send(Request request, Response response, Callback callback, String message) {
        boolean html = wantsHtml(request);
        byte[] body = html ? html(message) : ApiJson.mapper().writeValueAsBytes(ApiError.of(code, message));
        response.setStatus(status);
        var headers = response.getHeaders();
        headers.put(html ? HTML : JSON);
        headers.put(NO_STORE);
        if (status == 503) {
            headers.put(RETRY_AFTER);
        }
        headers.put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    private static boolean wantsHtml(Request request) {
        String accept = request.getHeaders().get(HttpHeader.ACCEPT);
        return accept != null && accept.contains("text/html");
    }

    private byte[] html(String message) {
        String escaped = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
        String page = "<!doctype html><title>" + status + "</title><h1>" + status + "</h1><p>" + escaped + "</p>\n";
        return page.getBytes(StandardCharsets.UTF_8);
    }
}
