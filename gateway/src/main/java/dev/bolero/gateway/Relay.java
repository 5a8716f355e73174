package dev.bolero.gateway;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import java.util.List;

/**
 * Copies bytes from one channel to another (its peer) with backpressure, and closes the peer when its own channel
 * closes: one half of a tunnel between a client and a machine after a protocol upgrade.
 */
final class Relay extends ChannelInboundHandlerAdapter {
    /** The client pipeline's HTTP handlers, removed (the codec last) when a connection becomes a tunnel. */
    private static final List<Class<? extends ChannelHandler>> CLIENT_HTTP = List.of(GatewayHandler.class,
            HttpServerExpectContinueHandler.class, HttpServerKeepAliveHandler.class, HttpServerUpgradeHandler.class,
            HttpServerCodec.class);
    /** The machine pipeline's HTTP handlers, removed (the codec last) likewise. */
    private static final List<Class<? extends ChannelHandler>> MACHINE_HTTP = List.of(MachineLink.class, HttpClientCodec.class);

    private final Channel peer;
    private final Runnable closed;

    private Relay(Channel peer, Runnable closed) {
        this.peer = peer;
        this.closed = closed;
    }

    /**
     * Turns a client connection and a machine connection that both switched protocols into a tunnel: the bytes each
     * side's HTTP decoder holds still, and everything after, go to the other side. {@code closed} runs once, when the
     * first side closes. Call on the channels' event loop.
     */
    static void join(Channel client, Channel machine, Runnable closed) {
        Runnable once = new Runnable() {
            private boolean ran;

            @Override
            public void run() {
                if (!ran) {
                    ran = true;
                    closed.run();
                }
            }
        };
        client.pipeline().addLast("relay", new Relay(machine, once));
        machine.pipeline().addLast("relay", new Relay(client, once));
        // The relays are in place before the decoders go, so the bytes a decoder held are passed on, not lost.
        strip(client.pipeline(), CLIENT_HTTP);
        strip(machine.pipeline(), MACHINE_HTTP);
        client.config().setAutoRead(true);
        machine.config().setAutoRead(true);
    }

    private static void strip(ChannelPipeline pipeline, List<Class<? extends ChannelHandler>> handlers) {
        for (var type : handlers) {
            if (pipeline.get(type) != null) pipeline.remove(type);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        peer.write(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        peer.flush();
        if (!peer.isWritable()) ctx.channel().config().setAutoRead(false);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // This side can take the peer's bytes again (or not): the peer reads accordingly.
        peer.config().setAutoRead(ctx.channel().isWritable());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        closed.run();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
