package dev.bolero.gateway;

import dev.bolero.api.ApiError;
import dev.bolero.api.ApiJson;
import dev.bolero.api.ErrorCode;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

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

    final int status;
    private final ErrorCode code;

    Refusal(int status, ErrorCode code) {
        this.status = status;
        this.code = code;
    }

    /**
     * This refusal as a complete answer to a request with these headers; {@code message} names what failed and for
     * which host or fleet.
     */
    FullHttpResponse answer(HttpHeaders request, String message) {
        boolean html = wantsHtml(request);
        byte[] body = html ? html(message) : ApiJson.mapper().writeValueAsBytes(ApiError.of(code, message));
        var response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.wrappedBuffer(body));
        var headers = response.headers();
        headers.set(HttpHeaderNames.CONTENT_TYPE, html ? "text/html; charset=utf-8" : "application/json");
        headers.set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        if (status == 503) {
            headers.set(HttpHeaderNames.RETRY_AFTER, "1");
        }
        headers.setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        return response;
    }

    private static boolean wantsHtml(HttpHeaders request) {
        String accept = request.get(HttpHeaderNames.ACCEPT);
        return accept != null && accept.contains("text/html");
    }

    private byte[] html(String message) {
        String escaped = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
        String page = "<!doctype html><title>" + status + "</title><h1>" + status + "</h1><p>" + escaped + "</p>\n";
        return page.getBytes(StandardCharsets.UTF_8);
    }
}
