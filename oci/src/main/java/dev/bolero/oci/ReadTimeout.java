package dev.bolero.oci;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A response body whose every read must return within a timeout: a read that waits longer has the body closed under
 * it (which makes it return: the HTTP client's body stream wakes its reader when closed) and throws a
 * {@link PullIOException} with {@code message}. Closing the body ends the exchange, so nothing more arrives. Reads go
 * through {@link #read(byte[], int, int)}.
 */
final class ReadTimeout extends ChunkedInputStream {
    /** One timer for all bodies: it only closes streams. */
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("registry-read-timeout").daemon().factory());

    private final InputStream body;
    private final Duration timeout;
    private final String message;
    private volatile boolean expired;

    /** @param message what a timed-out read throws, e.g. {@code registry H sent no data for 30 s while blob … was fetched} */
    ReadTimeout(InputStream body, Duration timeout, String message) {
        this.body = body;
        this.timeout = timeout;
        this.message = message;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        if (expired) {
            throw new PullIOException(message);
        }
        ScheduledFuture<?> alarm = TIMER.schedule(this::expire, timeout.toNanos(), TimeUnit.NANOSECONDS);
        try {
            return body.read(buffer, offset, length);
        } catch (IOException e) {
            throw expired ? new PullIOException(message, e) : e;
        } finally {
            alarm.cancel(false);
        }
    }

    private void expire() {
        expired = true;
        try {
            body.close();
        } catch (IOException e) {
            // the read it was for fails either way
        }
    }

    @Override
    public void close() throws IOException {
        body.close();
    }
}
