package dev.bolero.gateway;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP/1.1 connection to a machine, on the event loop of the client connection that opened it. It serves one
 * {@link GatewayHandler}'s exchange at a time and between exchanges waits in its event loop's idle connections to that
 * machine, so a loop's requests reuse its own connections and never hand an answer to another thread. Closed when
 * silent for {@link #IDLE_TIMEOUT_S}, between exchanges or mid-exchange once the request was sent whole (the exchange
 * fails); a machine may stay silent while a slow client's body still arrives.
 */
final class MachineLink extends ChannelInboundHandlerAdapter {
    static final long IDLE_TIMEOUT_S = 30;
    /** Idle connections kept per machine and event loop; more are closed when their exchange ends. */
    private static final int MAX_IDLE = 256;
    private static final FastThreadLocal<Map<Backend, ArrayDeque<MachineLink>>> IDLE = new FastThreadLocal<>() {
        @Override
        protected Map<Backend, ArrayDeque<MachineLink>> initialValue() {
            return new HashMap<>();
        }
    };

    private final Backend backend;
    Channel channel;
    private GatewayHandler client;
    private boolean reusable;
    private String failure;

    MachineLink(Backend backend) {
        this.backend = backend;
    }

    /** Sets up a new connection's pipeline: idle timeout, HTTP/1.1 client codec, this. */
    ChannelInitializer<Channel> initializer() {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                channel = ch;
                ch.pipeline().addLast("idle", new IdleStateHandler(IDLE_TIMEOUT_S, 0, 0, TimeUnit.SECONDS))
                        .addLast("codec", new HttpClientCodec())
                        .addLast("machine", MachineLink.this);
            }
        };
    }

    /** An open idle connection to {@code backend} on the calling event loop, taken out of the idle ones; or null. */
    static MachineLink idle(Backend backend) {
        ArrayDeque<MachineLink> idle = IDLE.get().get(backend);
        if (idle == null) return null;
        MachineLink link;
        while ((link = idle.pollLast()) != null) {
            if (link.channel.isActive()) return link;
        }
        return null;
    }

    /** Serves {@code handler}'s exchange from now on. */
    void serve(GatewayHandler handler) {
        client = handler;
        reusable = false;
        failure = null;
    }

    /** Whether the connection may carry another exchange once this one ends (the machine keeps it alive). */
    void reusable(boolean reusable) {
        this.reusable = reusable;
    }

    /** The exchange ended whole: keeps the connection for the next one when it may, else closes it. */
    void release() {
        client = null;
        if (reusable && channel.isActive()) {
            ArrayDeque<MachineLink> idle = IDLE.get().computeIfAbsent(backend, b -> new ArrayDeque<>());
            if (idle.size() < MAX_IDLE) {
                GatewayHandler.autoRead(channel, true);
                idle.addLast(this);
                return;
            }
        }
        channel.close();
    }

    /** The exchange was given up mid-way (the client left): the connection cannot carry another. */
    void abandon() {
        client = null;
        channel.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (client != null) {
            client.fromMachine(msg);
        } else {
            // An idle connection has nothing to say: whatever it sent belongs to no exchange.
            ReferenceCountUtil.release(msg);
            ctx.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (client != null) client.flushToClient();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (client != null) client.machineWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent) {
            if (client != null && client.sending()) return;
            if (client != null) failure = "no answer within " + IDLE_TIMEOUT_S + " s";
            ctx.close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (failure == null) failure = cause.getMessage() == null ? cause.toString() : cause.getMessage();
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        GatewayHandler handler = client;
        client = null;
        if (handler != null) {
            handler.machineFailed(this, failure != null ? failure : "the machine closed the connection");
        } else {
            ArrayDeque<MachineLink> idle = IDLE.get().get(backend);
            if (idle != null) idle.remove(this);
        }
    }
}
