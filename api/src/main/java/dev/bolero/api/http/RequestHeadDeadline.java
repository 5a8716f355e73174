package dev.bolero.api.http;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a connection of one connector whose HTTP/1 request head (request line and headers), or whose TLS handshake,
 * is still incomplete {@code timeout} after it began — a client dripping its headers a byte every few seconds never
 * trips the idle timeout, which only measures the gaps. Jetty 12 has no such deadline (its idle timeout is per read,
 * its minimum data rate only for bodies), so this one looks at each open connection once a second: a connection is
 * closed at most {@code timeout} plus two seconds after its head began. Idle keep-alive connections (nothing of a next
 * request yet) are left to the idle timeout.
 */
final class RequestHeadDeadline extends AbstractLifeCycle implements Connection.Listener {
    private static final Logger log = LoggerFactory.getLogger(RequestHeadDeadline.class);
    private static final long SWEEP_MS = 1000;
    /** The mark of a connection not inside a request head now. */
    private static final long NOT_STARTED = Long.MIN_VALUE;

    private final AbstractConnector connector;
    private final long timeoutNanos;
    private final Duration timeout;
    /** The connector's open HTTP/1 and TLS connections, each with when it was first seen inside a head or handshake. */
    private final Map<Connection, Long> open = new ConcurrentHashMap<>();
    private volatile Scheduler.Task sweep;

    RequestHeadDeadline(AbstractConnector connector, Duration timeout) {
        this.connector = connector;
        this.timeout = timeout;
        this.timeoutNanos = timeout.toNanos();
    }

    @Override
    public void onOpened(Connection connection) {
        switch (connection) {
            case HttpConnection http -> open.put(http, NOT_STARTED);
            case SslConnection tls -> {
                open.put(tls, System.nanoTime()); // the handshake begins now
                tls.addHandshakeListener(new SslHandshakeListener() {
                    @Override
                    public void handshakeSucceeded(Event event) {
                        open.remove(tls);
                    }

                    @Override
                    public void handshakeFailed(Event event, Throwable failure) {
                        open.remove(tls);
                    }
                });
            }
            default -> {}
        }
    }

    @Override
    public void onClosed(Connection connection) {
        open.remove(connection);
    }

    @Override
    protected void doStart() {
        schedule();
    }

    @Override
    protected void doStop() {
        Scheduler.Task task = sweep;
        if (task != null) task.cancel();
        open.clear();
    }

    private void schedule() {
        sweep = connector.getScheduler().schedule(this::sweep, SWEEP_MS, TimeUnit.MILLISECONDS);
    }

    private void sweep() {
        try {
            long now = System.nanoTime();
            int closed = 0;
            for (var entry : open.entrySet()) {
                Connection connection = entry.getKey();
                long began = entry.getValue();
                if (connection instanceof HttpConnection http) {
                    HttpParser parser = http.getParser();
                    if (parser.isStart() || !parser.inHeaderState()) {
                        if (began != NOT_STARTED) open.replace(connection, began, NOT_STARTED);
                        continue;
                    }
                    if (began == NOT_STARTED) {
                        open.replace(connection, began, now);
                        continue;
                    }
                }
                if (now - began > timeoutNanos) {
                    log.debug("closing connection from {}: its request head took longer than {}",
                            connection.getEndPoint().getRemoteSocketAddress(), timeout);
                    open.remove(connection);
                    connection.getEndPoint().close();
                    closed++;
                }
            }
            if (closed > 0) {
                log.info("closed {} connections on port {} whose request headers or TLS handshake took longer than "
                        + "{} s (--request-header-timeout)", closed, port(), timeout.toSeconds());
            }
        } catch (RuntimeException e) {
            log.warn("request header deadline: checking connections failed", e);
        } finally {
            if (isRunning()) schedule();
        }
    }

    private String port() {
        return connector instanceof org.eclipse.jetty.server.NetworkConnector n ? String.valueOf(n.getLocalPort())
                : connector.getName();
    }
}
