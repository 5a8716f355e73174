package dev.bolero.api.http;

import dev.bolero.api.ApiError;
import dev.bolero.api.ApiJson;
import dev.bolero.api.ErrorCode;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's answer to what it refuses before any route sees it (a path with a NUL or an ambiguous segment, a malformed
 * request line, headers over the limit), in the API's error shape {@code {"error": {"code", "message"}}} instead of
 * Jetty's HTML page: the status Jetty chose, the code of that status ({@code invalid_argument} for 400 and for a status
 * no code has) and Jetty's reason.
 */
final class JsonErrorHandler extends ErrorHandler {
    @Override
    protected void generateResponse(Request request, Response response, int status, String message, Throwable cause,
                                    Callback callback) {
        ErrorCode code = ErrorCode.INVALID_ARGUMENT;
        for (ErrorCode c : ErrorCode.values()) {
            if (c.httpStatus() == status) {
                code = c;
                break;
            }
        }
        String reason = message == null || message.isBlank() ? "HTTP " + status : message;
        byte[] body = ApiJson.mapper().writeValueAsBytes(ApiError.of(code, "refused by the server: " + reason));
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, ByteBuffer.wrap(body), callback);
    }
}
