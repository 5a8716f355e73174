package dev.bolero.api.http;

import dev.bolero.api.ApiError;
import dev.bolero.api.ApiException;
import dev.bolero.core.ValidationException;
import dev.bolero.api.ApiJson;
import dev.bolero.api.ErrorCode;
import io.javalin.config.JavalinConfig;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HttpResponseException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers an API's {@link Operation}s on Javalin and answers every request outside them in the API's error shape
 * {@code {"error": {"code", "message"}}}: an unknown path is {@code 404 not_found}, a known path with another method
 * {@code 405 method_not_allowed} with {@code Allow}, a body over {@link #MAX_BODY} bytes {@code 413 too_large}, a
 * body that is not JSON on a route that reads JSON {@code 415 unsupported_media_type}, and an
 * {@link ApiException} its code's status; what Jetty refuses before routing is answered in that shape too
 * ({@link JsonErrorHandler}).
 *
 * <p>Every operation the API declares must be given a handler, once ({@link #complete}); a handler that reads a body
 * of another type than its operation declares fails ({@link #body}), so the declarations the OpenAPI document is
 * built from are the ones that run.
 */
public final class Router {
    /** The largest request body a JSON route reads: 1 MiB. Raw uploads (image archives) are streamed, not limited. */
    public static final long MAX_BODY = 1 << 20;

    /** The size of the buffer Javalin copies an answer through into the response: 4 KiB. */
    static final int RESPONSE_COPY_BUFFER = 4096;

    private static final Logger log = LoggerFactory.getLogger(Router.class);
    private static final String OPERATION = "bolero.operation";
    private static final String BODY = "bolero.body";

    private final RoutesConfig routes;
    private final List<Operation> declared;
    private final Set<Operation> registered = new LinkedHashSet<>();

    /**
     * A router for the operations {@code declared}, on {@code config}, which it sets up: the body limit and the
     * error handlers. The caller may add handlers for its own exception types.
     */
    public Router(JavalinConfig config, List<Operation> declared) {
        this.routes = config.routes;
        this.declared = List.copyOf(declared);
        config.http.maxRequestSize = MAX_BODY;
        // Javalin copies each answer into the response through a buffer of this size, allocated anew for each one
        // (by default Jetty's output buffer size, 32 KiB, zeroed for answers mostly under 1 KiB: a third of what the
        // server allocated under the cluster bench). Larger answers go through it in more pieces; Jetty still writes
        // to the socket from its own 32 KiB buffer.
        config.http.responseBufferSize = RESPONSE_COPY_BUFFER;
        config.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
        routes.exception(ApiException.class, (e, ctx) -> error(ctx, e));
        routes.exception(ValidationException.class, (e, ctx) -> error(ctx, ApiException.invalid(e)));
        routes.exception(HttpResponseException.class, (e, ctx) -> {
            if (e.getStatus() == 404 || e.getStatus() == 405) {
                noRoute(ctx);
            } else {
                error(ctx, fromJavalin(ctx, e));
            }
        });
        routes.error(404, this::noRoute);
        routes.error(405, this::noRoute);
    }

    /** Registers {@code handler} for {@code operation}, one of the declared ones. */
    public Router handle(Operation operation, Handler handler) {
        if (!declared.contains(operation)) {
            throw new IllegalArgumentException("operation " + operation.id() + " is not declared");
        }
        if (!registered.add(operation)) {
            throw new IllegalArgumentException("operation " + operation.id() + " has a handler already");
        }
        Handler checked = ctx -> {
            ctx.attribute(OPERATION, operation);
            checkBody(ctx, operation);
            handler.handle(ctx);
        };
        String path = operation.path();
        switch (operation.method()) {
            case GET -> routes.get(path, checked);
            case POST -> routes.post(path, checked);
            case PUT -> routes.put(path, checked);
            case DELETE -> routes.delete(path, checked);
        }
        return this;
    }

    /** The operation whose handler answers {@code ctx}'s request; null when none matched it. */
    public static Operation operation(Context ctx) {
        return ctx.attribute(OPERATION);
    }

    /** @throws IllegalStateException naming the declared operations that got no handler */
    public void complete() {
        List<String> missing = declared.stream().filter(o -> !registered.contains(o)).map(Operation::id).toList();
        if (!missing.isEmpty()) throw new IllegalStateException("operations without a handler: " + missing);
    }

    /**
     * The request body of the operation being handled, parsed strictly into {@code type}.
     *
     * @param action what the request asks for, to start error messages
     * @throws ApiException {@code invalid_argument} for an empty or refused body, {@code too_large} for one over
     *     {@link #MAX_BODY}
     * @throws IllegalStateException when the operation declares another body type (a bug: its document would lie)
     */
    public static <T> T body(Context ctx, Class<T> type, String action) {
        byte[] body = declaredBody(ctx, type);
        return ApiJson.parse(body, body.length, type, action);
    }

    /**
     * As {@link #body}, for an operation whose body is optional: {@code absent} when the request has none (or only
     * whitespace).
     */
    public static <T> T bodyOr(Context ctx, Class<T> type, String action, T absent) {
        byte[] body = declaredBody(ctx, type);
        return ApiJson.blank(body, body.length) ? absent : ApiJson.parse(body, body.length, type, action);
    }

    /**
     * The text of the request body {@link #body} or {@link #bodyOr} read (UTF-8), for a handler that passes it on as it
     * came once parsed: the body is read from the request once.
     *
     * @throws IllegalStateException when neither read it (a bug)
     */
    public static String bodyText(Context ctx) {
        byte[] body = ctx.attribute(BODY);
        if (body == null) throw new IllegalStateException(ctx.method() + " " + ctx.path() + ": no body was read");
        return new String(body, StandardCharsets.UTF_8);
    }

    /** The request body's bytes, once the operation being handled is known to declare a body of {@code type}. */
    private static byte[] declaredBody(Context ctx, Class<?> type) {
        Operation operation = ctx.attribute(OPERATION);
        if (operation == null || !operation.reads(type)) {
            throw new IllegalStateException(ctx.method() + " " + ctx.path() + " reads a " + type.getSimpleName()
                    + " but its operation declares " + (operation == null ? "nothing" : operation.requests()));
        }
        byte[] body = bodyBytes(ctx);
        ctx.attribute(BODY, body);
        return body;
    }

    /**
     * The request body's bytes, read once from the request: into an array of its declared length when it has one, else
     * until its end; refused past {@link #MAX_BODY} either way. Javalin's {@code ctx.body()} would copy it through an
     * 8 KiB buffer and a growing one first, garbage on every report a node sends.
     *
     * @throws ApiException {@code too_large} past {@link #MAX_BODY}, {@code invalid_argument} for a body that ends
     *     before its declared length or cannot be read
     */
    private static byte[] bodyBytes(Context ctx) {
        long declared = ctx.contentLength();
        if (declared > MAX_BODY) throw tooLarge(ctx);
        try {
            var in = ctx.req().getInputStream();
            if (declared < 0) {
                byte[] read = in.readNBytes((int) MAX_BODY + 1);
                if (read.length > MAX_BODY) throw tooLarge(ctx);
                return read;
            }
            byte[] body = new byte[(int) declared];
            int read = in.readNBytes(body, 0, body.length);
            if (read < body.length) {
                throw ApiException.invalid(ctx.method() + " " + ctx.path() + ": the request body ended after " + read
                        + " of its " + declared + " bytes");
            }
            return body;
        } catch (IOException e) {
            throw ApiException.invalid(ctx.method() + " " + ctx.path() + ": the request body could not be read: "
                    + e.getMessage());
        }
    }

    /**
     * Answers with {@code e} as the API's error body. For a refused WebSocket upgrade (Javalin sets the status but
     * never writes the result) the body goes to the response itself, so the client learns why.
     */
    public static void error(Context ctx, ApiException e) {
        ApiError body = e.toError();
        if (!"websocket".equalsIgnoreCase(ctx.header("Upgrade"))) {
            ctx.status(e.code().httpStatus()).json(body);
            return;
        }
        try {
            ctx.res().setStatus(e.code().httpStatus());
            ctx.res().setContentType("application/json");
            ctx.res().getOutputStream().write(ApiJson.mapper().writeValueAsBytes(body));
        } catch (IOException io) {
            log.debug("{} {}: the refusal's body was not sent: {}", ctx.method(), ctx.path(), io.toString());
        }
    }

    private static void checkBody(Context ctx, Operation operation) {
        boolean hasBody = ctx.contentLength() > 0 || ctx.header("Transfer-Encoding") != null;
        if (!hasBody || !operation.takesJson()) return;
        String type = ctx.contentType();
        if (type != null && !isJson(type)) {
            throw new ApiException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, ctx.method() + " " + ctx.path() + ": the body is "
                    + type.split(";")[0].strip() + "; this route reads application/json");
        }
        if (ctx.contentLength() > MAX_BODY) throw tooLarge(ctx);
    }

    private static boolean isJson(String contentType) {
        String media = contentType.split(";")[0].strip().toLowerCase(Locale.ROOT);
        return media.equals("application/json") || media.endsWith("+json");
    }

    private static ApiException tooLarge(Context ctx) {
        return new ApiException(ErrorCode.TOO_LARGE, ctx.method() + " " + ctx.path()
                + ": the request body is larger than " + MAX_BODY + " bytes");
    }

    private static ApiException fromJavalin(Context ctx, HttpResponseException e) {
        return switch (e.getStatus()) {
            case 413 -> tooLarge(ctx);
            case 400 -> ApiException.invalid(ctx.method() + " " + ctx.path() + ": " + e.getMessage());
            default -> new ApiException(ErrorCode.INTERNAL, ctx.method() + " " + ctx.path() + ": " + e.getMessage());
        };
    }

    /** A 404 or 405 no handler answered: 405 with {@code Allow} when the path exists for other methods. */
    private void noRoute(Context ctx) {
        String type = ctx.res().getContentType();
        if (type != null && type.startsWith("application/json")) return; // a handler's own 404 (no such object)
        List<String> allowed = new ArrayList<>();
        for (Operation o : registered) {
            if (o.matches(ctx.path()) && !allowed.contains(o.method().name())) allowed.add(o.method().name());
        }
        if (allowed.isEmpty()) {
            error(ctx, ApiException.notFound("no route " + ctx.method() + " " + ctx.path()));
            return;
        }
        ctx.header("Allow", String.join(", ", allowed));
        error(ctx, new ApiException(ErrorCode.METHOD_NOT_ALLOWED, "method " + ctx.method() + " is not allowed on "
                + ctx.path() + " (allowed: " + allowed.stream().collect(Collectors.joining(", ")) + ")"));
    }
}
