package dev.bolero.gateway;

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
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * How the gateway's event loops talk to the kernel: io_uring where the kernel allows it (submissions and completions
 * batched, the fewest system calls per request), else epoll, else the JDK's selectors. Clients' and machines'
 * connections share one set of loops: a machine's connection lives on the loop of the client connection that opened
 * it, so a request and its answer never change threads.
 */
enum Transport {
    IO_URING(IoUringIoHandler::newFactory, IoUringServerSocketChannel.class, IoUringSocketChannel.class),
    EPOLL(EpollIoHandler::newFactory, EpollServerSocketChannel.class, EpollSocketChannel.class),
    NIO(NioIoHandler::newFactory, NioServerSocketChannel.class, NioSocketChannel.class);

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

    /** {@code threads} event loops of this transport, their threads named {@code gateway-…}. */
    EventLoopGroup loops(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, new io.netty.util.concurrent.DefaultThreadFactory("gateway"),
                handlers.get());
    }
}
