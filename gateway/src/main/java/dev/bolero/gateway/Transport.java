package dev.bolero.gateway;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringBufferRingConfig;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringFixedBufferRingAllocator;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * How the gateway's event loops talk to the kernel: io_uring where the kernel allows it (submissions and completions
 * batched, the fewest system calls per request), else epoll, else the JDK's selectors. Clients' and machines'
 * connections share one set of loops: a machine's connection lives on the loop of the client connection that opened
 * it, so a request and its answer never change threads.
 *
 * <p>On io_uring, each loop has a ring of receive buffers the kernel fills ({@link #RECEIVE_RING}): a connection's
 * reads are one multishot receive that completes each time data arrives, instead of a readiness poll completing, then
 * a receive submitted and completing, for every read (about two submissions and two completions fewer per proxied
 * request, measured with {@code perf} on the io_uring tracepoints). A loop whose ring runs out (its buffers held by
 * slow consumers) reads the old way until buffers come back (Netty's fallback).
 */
enum Transport {
    IO_URING(() -> IoUringIoHandler.newFactory(new IoUringIoHandlerConfig().setBufferRingConfig(
                    IoUringBufferRingConfig.builder().bufferGroupId(Transport.RECEIVE_RING)
                            .bufferRingSize(Transport.RECEIVE_BUFFERS)
                            .allocator(new IoUringFixedBufferRingAllocator(Transport.RECEIVE_BUFFER_BYTES))
                            .batchSize(64).build())),
            IoUringServerSocketChannel.class, IoUringSocketChannel.class),
    EPOLL(EpollIoHandler::newFactory, EpollServerSocketChannel.class, EpollSocketChannel.class),
    NIO(NioIoHandler::newFactory, NioServerSocketChannel.class, NioSocketChannel.class);

    /** The buffer group id of each io_uring loop's receive ring. */
    private static final short RECEIVE_RING = 1;
    /** Buffers in each ring (a power of two): 4 MiB a loop once all are handed out. */
    private static final short RECEIVE_BUFFERS = 1024;
    private static final int RECEIVE_BUFFER_BYTES = 4096;

    private final Supplier<IoHandlerFactory> handlers;
    final Class<? extends ServerChannel> serverChannel;
    final Class<? extends Channel> clientChannel;

    Transport(Supplier<IoHandlerFactory> handlers, Class<? extends ServerChannel> serverChannel,
              Class<? extends Channel> clientChannel) {
        this.handlers = handlers;
        this.serverChannel = serverChannel;
        this.clientChannel = clientChannel;
    }

    /** Its name as {@link #named} takes it. */
    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The first of io_uring, epoll and NIO this host supports. */
    static Transport best() {
        if (IoUring.isAvailable()) return IO_URING;
        if (Epoll.isAvailable()) return EPOLL;
        return NIO;
    }

    /**
     * The transport named {@code io_uring}, {@code epoll} or {@code nio}.
     *
     * @throws IllegalArgumentException when the name is none of those or this host does not support it (with why)
     */
    static Transport named(String name) {
        Transport transport = switch (name.toLowerCase(Locale.ROOT)) {
            case "io_uring", "io-uring" -> IO_URING;
            case "epoll" -> EPOLL;
            case "nio" -> NIO;
            default -> throw new IllegalArgumentException("gateway transport " + name + ": not one of io_uring, epoll, nio");
        };
        Throwable missing = switch (transport) {
            case IO_URING -> IoUring.unavailabilityCause();
            case EPOLL -> Epoll.unavailabilityCause();
            case NIO -> null;
        };
        if (missing != null) {
            throw new IllegalArgumentException("gateway transport " + name + " is not available here: " + missing.getMessage());
        }
        return transport;
    }

    /** {@code bootstrap} with what the connections it accepts need on this transport (io_uring: the receive ring). */
    ServerBootstrap accepting(ServerBootstrap bootstrap) {
        return this == IO_URING ? bootstrap.childOption(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID, RECEIVE_RING)
                : bootstrap;
    }

    /** {@code bootstrap} with what the connections it opens need on this transport (io_uring: the receive ring). */
    Bootstrap connecting(Bootstrap bootstrap) {
        return this == IO_URING ? bootstrap.option(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID, RECEIVE_RING)
                : bootstrap;
    }

    /** {@code threads} event loops of this transport, their threads named {@code gateway-…}. */
    EventLoopGroup loops(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, new io.netty.util.concurrent.DefaultThreadFactory("gateway"),
                handlers.get());
    }
}
