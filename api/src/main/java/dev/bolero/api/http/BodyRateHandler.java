package dev.bolero.api.http;

import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.MinimumDataRateHandler;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jetty's minimum read rate for request bodies ({@link MinimumDataRateHandler}), skipped for the requests a listener
 * names: a body arriving slower than the rate fails its next read, which ends the request and closes its connection.
 * The rate is checked whenever the handler waits for more of the body, so a client dripping a byte every few seconds
 * is stopped at its second byte.
 */
final class BodyRateHandler extends MinimumDataRateHandler {
    private static final Logger log = LoggerFactory.getLogger(BodyRateHandler.class);

    private final long minRate;
    private final Predicate<Request> slowBodyAllowed;

    BodyRateHandler(Handler handler, long minRate, Predicate<Request> slowBodyAllowed) {
        super(handler, minRate, 0);
        this.minRate = minRate;
        this.slowBodyAllowed = slowBodyAllowed;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (slowBodyAllowed.test(request)) {
            Handler next = getHandler();
            return next != null && next.handle(request, response, callback);
        }
        return super.handle(request, response, callback);
    }

    @Override
    protected void onRequestRead(Request request, Content.Chunk chunk) {
        super.onRequestRead(request, chunk);
        if (chunk != null && Content.Chunk.isFailure(chunk) && chunk.getFailure() instanceof TimeoutException) {
            log.info("{} {} from {}: closed, its body arrived at less than {} bytes/s (--min-request-body-rate)",
                    request.getMethod(), Request.getPathInContext(request),
                    Request.getRemoteAddr(request), minRate);
        }
    }
}
