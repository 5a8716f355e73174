package dev.bolero.gateway;

import dev.bolero.api.http.ClientLimits;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a client may hold on one of the gateway's listeners ({@link ClientLimits}): connections per client address (for
 * both listeners together) and in all (per listener: beyond it the listener stops accepting until one closes, the rest
 * waiting in the kernel's queue), a deadline for each request head (and the TLS handshake) from its first byte, and an
 * idle timeout. The body rate is checked where bodies are read ({@link GatewayHandler}).
 */
final class ClientGuard {
    private static final Logger log = LoggerFactory.getLogger(ClientGuard.class);
    /** How long a client may send nothing when it is not waiting for an answer (an answer may take long to read). */
    static final long IDLE_TIMEOUT_S = 30;

    private final ClientLimits limits;
    private final ConcurrentHashMap<InetAddress, AtomicInteger> perClient = new ConcurrentHashMap<>();

    ClientGuard(ClientLimits limits) {
        this.limits = limits;
    }

    ClientLimits limits() {
        return limits;
    }

    /** A new counter of one listener's connections, closing those past the limits. */
    ChannelHandler connectionCap() {
        return new ConnectionCap();
    }

    /** A head deadline for one new connection, or none when the limits set no header timeout. */
    HeadDeadline headDeadline() {
        return limits.headerTimeout().isPositive() ? new HeadDeadline(limits.headerTimeout().toNanos()) : null;
    }

    /** Counts one listener's connections; sharable among that listener's connections. */
    @ChannelHandler.Sharable
    private final class ConnectionCap extends ChannelInboundHandlerAdapter {
        private final AtomicInteger open = new AtomicInteger();

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            Channel channel = ctx.channel();
            InetAddress client = ((InetSocketAddress) channel.remoteAddress()).getAddress();
            int fromClient = perClient.computeIfAbsent(client, c -> new AtomicInteger()).incrementAndGet();
            int all = open.incrementAndGet();
            channel.closeFuture().addListener(closed -> {
                perClient.computeIfPresent(client, (c, count) -> count.decrementAndGet() == 0 ? null : count);
                if (open.decrementAndGet() == limits.maxConnections() - 1) {
                    channel.parent().config().setAutoRead(true);
                }
            });
            if (limits.maxConnectionsPerClient() > 0 && fromClient > limits.maxConnectionsPerClient()) {
                log.info("closing a connection from {}: it holds {} already, the most one client address may "
                        + "(--max-connections-per-client)", client.getHostAddress(), limits.maxConnectionsPerClient());
                channel.close();
                return;
            }
            if (limits.maxConnections() > 0 && all >= limits.maxConnections()) {
                log.warn("holding {} connections, the most this listener takes (--max-connections); new ones wait "
                        + "until one closes", limits.maxConnections());
                channel.parent().config().setAutoRead(false);
            }
            super.channelActive(ctx);
        }
    }

    /**
     * Closes a connection whose request head (or TLS handshake) has not arrived within the deadline from its first
     * byte. Placed first in the connection's pipeline, so it sees every byte; {@link GatewayHandler} says when a head
     * arrived and when the connection waits for the next one.
     */
    static final class HeadDeadline extends ChannelDuplexHandler {
        private final long nanos;
        private boolean awaitingHead = true;
        /** {@link System#nanoTime()} of the first byte of the head awaited now; 0 when none is. */
        private long headStarted;
        /**
         * The one check scheduled for this connection, if any: it runs at the oldest possible deadline and, when a later
         * head is awaited by then, schedules itself again for that one — one timer per deadline period, not per request.
         */
        private ScheduledFuture<?> check;

        private HeadDeadline(long nanos) {
            this.nanos = nanos;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (awaitingHead && headStarted == 0 && msg instanceof ByteBuf bytes && bytes.isReadable()) {
                long now = System.nanoTime();
                headStarted = now == 0 ? 1 : now;
                if (check == null) schedule(ctx, nanos);
            }
            super.channelRead(ctx, msg);
        }

        private void schedule(ChannelHandlerContext ctx, long delay) {
            check = ctx.executor().schedule(() -> check(ctx), delay, TimeUnit.NANOSECONDS);
        }

        private void check(ChannelHandlerContext ctx) {
            check = null;
            if (headStarted == 0) return;
            long left = headStarted + nanos - System.nanoTime();
            if (left > 0) {
                schedule(ctx, left);
                return;
            }
            log.info("closing the connection from {}: no request head within {} ms of its first byte "
                    + "(--request-header-timeout)", ctx.channel().remoteAddress(), nanos / 1_000_000);
            ctx.close();
        }

        /** A request head arrived: no deadline until the connection waits for the next one. */
        void headArrived() {
            awaitingHead = false;
            headStarted = 0;
        }

        /** The connection waits for its next request head: its first byte starts the deadline. */
        void awaitHead() {
            awaitingHead = true;
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            headArrived();
            if (check != null) {
                check.cancel(false);
                check = null;
            }
            super.channelInactive(ctx);
        }
    }

    /**
     * Closes a client connection that sent nothing for {@link #IDLE_TIMEOUT_S} unless it waits for an answer (a held
     * or slow request is the machine's deadline to keep, not the client's; a long download is the client reading).
     * Sharable.
     */
    @ChannelHandler.Sharable
    static final class IdleClose extends ChannelInboundHandlerAdapter {
        static final IdleClose INSTANCE = new IdleClose();

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
            if (event instanceof IdleStateEvent) {
                if (Awaiting.of(ctx.channel()).count == 0) ctx.close();
                return;
            }
            super.userEventTriggered(ctx, event);
        }
    }

    /**
     * How many requests on one client connection (an HTTP/2 connection's streams together) are complete and wait for
     * their answers. Read and written on the connection's event loop only.
     */
    static final class Awaiting {
        private static final AttributeKey<Awaiting> KEY = AttributeKey.valueOf("bolero.awaiting");
        private int count;

        /** The count of {@code connection}, the client's TCP connection (not an HTTP/2 stream). */
        static Awaiting of(Channel connection) {
            Awaiting awaiting = connection.attr(KEY).get();
            if (awaiting == null) {
                awaiting = new Awaiting();
                connection.attr(KEY).set(awaiting);
            }
            return awaiting;
        }

        void started() {
            count++;
        }

        void ended() {
            count--;
        }
    }
}
