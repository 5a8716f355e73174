package dev.bolero.api.http;

import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A minimum read rate for request bodies, skipped for the requests a listener names: whenever the handler waits for
 * more of a body, the bytes it has read so far, over the time since it first waited, must be at least the rate; else
 * that wait ends at once with a failure, which ends the request and closes its connection. So a client dripping a byte
 * every few seconds is stopped at its second byte, and a body that stops altogether is left to the idle timeout.
 *
 * <p>This is what Jetty's {@code MinimumDataRateHandler} does, but with each request's own byte count: Jetty's
 * (12.1.14) divides the bytes read by every request of the listener since it started, so a dripping client passes as
 * long as others send bodies ({@code ClientLimitsTest} shows it).
 */
final class BodyRateHandler extends Handler.Wrapper {
    private static final Logger log = LoggerFactory.getLogger(BodyRateHandler.class);

    private final long minRate;
    private final Predicate<Request> slowBodyAllowed;

    BodyRateHandler(Handler handler, long minRate, Predicate<Request> slowBodyAllowed) {
        super(handler);
        this.minRate = minRate;
        this.slowBodyAllowed = slowBodyAllowed;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        return super.handle(slowBodyAllowed.test(request) ? request : new RateCheckedRequest(request), response,
                callback);
    }

    /** A request whose body reads fail once it arrives slower than the rate (read and demand are never concurrent). */
    private final class RateCheckedRequest extends Request.Wrapper {
        private long firstWait;
        private long bytes;
        private Content.Chunk failure;

        RateCheckedRequest(Request request) {
            super(request);
        }

        @Override
        public Content.Chunk read() {
            if (failure != null) return failure;
            Content.Chunk chunk = super.read();
            if (chunk != null) bytes += chunk.remaining();
            return chunk;
        }

        @Override
        public void demand(Runnable demandCallback) {
            long now = System.nanoTime();
            if (firstWait == 0) {
                firstWait = now == 0 ? 1 : now;
            } else if (bytes > 0 && now - firstWait > 0 && bytes * 1_000_000_000L / (now - firstWait) < minRate) {
                String why = "the request body arrived at less than " + minRate + " bytes/s (--min-request-body-rate): "
                        + bytes + " bytes in " + (now - firstWait) / 1_000_000 + " ms";
                log.info("{} {} from {}: closing, {}", getMethod(), Request.getPathInContext(this),
                        Request.getRemoteAddr(this), why);
                failure = Content.Chunk.from(new TimeoutException(why));
                demandCallback.run();
                return;
            }
            super.demand(demandCallback);
        }
    }
}
