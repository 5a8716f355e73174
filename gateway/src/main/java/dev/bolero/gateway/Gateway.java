package dev.bolero.gateway;

import dev.bolero.api.http.ClientLimits;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AsciiString;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running gateway: an HTTP listener (HTTP/1.1 and h2c, by prior knowledge or upgrade) and optionally an HTTPS
 * listener (SNI, ALPN h2 and HTTP/1.1) in front of the machines its {@link RouteTable} lists, on Netty. One event loop
 * per core serves both sides: each client connection and the machine connections it uses live on one loop
 * ({@link GatewayHandler}, {@link MachineLink}), over io_uring where the kernel allows it ({@link Transport}).
 * Stateless apart from each machine's load and failure history, so any number can run side by side.
 */
public final class Gateway implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Gateway.class);
    /** Event loops unless told otherwise: one per core. Nothing on them blocks, so more would only add switches. */
    static final int DEFAULT_EVENT_LOOPS = Runtime.getRuntime().availableProcessors();
    /** The most event loops a gateway takes. */
    static final int MAX_EVENT_LOOPS = 1024;

    private final EventLoopGroup loops;
    private final int eventLoops;
    private final Channel http;
    private final Channel https;
    private final boolean tls;
    private final Balancer balancer;
    private final RouteTable table;
    private final ClientGuard guard;
    private final GatewayHandler.Shared shared;
    private volatile List<SniCertificate> certificates = List.of();
    private volatile boolean closed;

    private Gateway(Builder builder) throws IOException {
        this.table = builder.table;
        this.balancer = new Balancer(builder.outlierPolicy, System::nanoTime);
        this.guard = new ClientGuard(builder.clientLimits);
        this.tls = builder.httpsListen != null;
        if (tls) certificates = sniCertificates(aliased(builder.certificates));
        var ports = new int[1];
        this.shared = new GatewayHandler.Shared(table, balancer, builder.waker, builder.wakeTimeout,
                builder.connectTimeout, () -> ports[0], builder.challenges, builder.transport,
                builder.clientLimits.minBodyRate());
        this.eventLoops = builder.eventLoops;
        this.loops = builder.transport.loops(eventLoops);
        try {
            http = bind(builder.httpListen, false);
            https = tls ? bind(builder.httpsListen, true) : null;
        } catch (IOException | RuntimeException e) {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        if (https != null) ports[0] = ((InetSocketAddress) https.localAddress()).getPort();
        balancer.follow(table.current());
        followTable(table.nextChange());
        log.info("gateway listening on {} (HTTP){}, {} event loops over {}", http.localAddress(),
                https == null ? "" : " and " + https.localAddress() + " (HTTPS)", eventLoops, transport());
    }

    public static Builder builder(RouteTable table) {
        return new Builder(table);
    }

    /** The port the HTTP listener is bound to. */
    public int httpPort() {
        return ((InetSocketAddress) http.localAddress()).getPort();
    }

    /** The port the HTTPS listener is bound to, if there is one. */
    public OptionalInt httpsPort() {
        return https == null ? OptionalInt.empty() : OptionalInt.of(((InetSocketAddress) https.localAddress()).getPort());
    }

    /** How many event loops serve its connections. */
    public int eventLoops() {
        return eventLoops;
    }

    /** The kernel interface its event loops use: {@code io_uring}, {@code epoll} or {@code nio}. */
    public String transport() {
        return shared.transport().label();
    }

    /** Every machine the routes list, with its requests in flight and how long it has been idle. */
    public List<BackendActivity> activity() {
        return balancer.activity();
    }

    /**
     * Serves {@code certificates} to new TLS connections from now on (a tenant's upload, an ACME renewal), each under
     * the host name it was obtained for. A client's SNI name gets the certificate obtained for it when there is one,
     * else one whose leaf names it (an exact name before a wildcard), so two wildcards for one domain, each obtained
     * for another host, do not stand in for each other.
     *
     * @throws IOException when the gateway has no HTTPS listener or the certificates cannot be loaded
     */
    public void replaceCertificates(Map<String, CertifiedKey> certificates) throws IOException {
        if (certificates.isEmpty()) {
            throw new IOException("replace certificates: none given");
        }
        if (!tls) {
            throw new IOException("replace certificates: this gateway has no HTTPS listener");
        }
        this.certificates = sniCertificates(certificates);
    }

    /** The TLS context for a client's SNI name (null when it sent none): see {@link #replaceCertificates}. */
    private SslContext select(String sniHost) {
        List<SniCertificate> all = certificates;
        if (sniHost != null) {
            for (SniCertificate c : all) {
                if (c.alias.equalsIgnoreCase(sniHost) && c.key.covers(sniHost)) return c.context;
            }
            for (SniCertificate c : all) {
                if (c.key.dnsNames().stream().anyMatch(sniHost::equalsIgnoreCase)) return c.context;
            }
            for (SniCertificate c : all) {
                if (c.key.covers(sniHost)) return c.context;
            }
        }
        return all.getFirst().context;
    }

    @Override
    public void close() {
        closed = true;
        http.close().syncUninterruptibly();
        if (https != null) https.close().syncUninterruptibly();
        loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private void followTable(CompletionStage<Routes> change) {
        change.thenAccept(routes -> {
            if (!closed) {
                balancer.follow(table.current());
                followTable(table.nextChange());
            }
        });
    }

    private Channel bind(InetSocketAddress address, boolean secure) throws IOException {
        ChannelHandler cap = guard.connectionCap();
        var bootstrap = shared.transport().accepting(new ServerBootstrap()).group(loops)
                .channel(shared.transport().serverChannel)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ChannelPipeline pipeline = ch.pipeline();
                        pipeline.addLast("cap", cap);
                        var deadline = guard.headDeadline();
                        if (deadline != null) pipeline.addLast("deadline", deadline);
                        pipeline.addLast("idle", new IdleStateHandler(ClientGuard.IDLE_TIMEOUT_S, 0, 0, TimeUnit.SECONDS));
                        pipeline.addLast("idle-close", ClientGuard.IdleClose.INSTANCE);
                        if (secure) {
                            long handshake = guard.limits().headerTimeout().isPositive()
                                    ? guard.limits().headerTimeout().toMillis() : 10_000;
                            pipeline.addLast("sni", new SniHandler(Gateway.this::select, 16 * 1024, handshake));
                            pipeline.addLast("alpn", new Negotiation());
                        } else {
                            var codec = new HttpServerCodec();
                            var upgrade = new HttpServerUpgradeHandler(codec, protocol ->
                                    AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)
                                            ? new Http2ServerUpgradeCodec(Http2FrameCodecBuilder.forServer().build(),
                                                    new Http2MultiplexHandler(streams(false)))
                                            : null);
                            pipeline.addLast("h2c", new CleartextHttp2ServerUpgradeHandler(codec, upgrade, http2(false)));
                            // Before the upgrade handler, which the h2c handler put after itself and the codec.
                            pipeline.addBefore(pipeline.context(upgrade).name(), "h2c-bodies", NoUpgradeWithBody.INSTANCE);
                            http1(pipeline, false, false);
                        }
                    }
                });
        try {
            return bootstrap.bind(address).sync().channel();
        } catch (Exception e) {
            throw new IOException("start gateway: listen on " + address + ": " + e.getMessage(), e);
        }
    }

    /** The handlers of an HTTP/1.1 connection after its codec (added first unless the h2c handler adds its own). */
    private void http1(ChannelPipeline pipeline, boolean secure, boolean withCodec) {
        if (withCodec) pipeline.addLast("codec", new HttpServerCodec());
        pipeline.addLast("keep-alive", new HttpServerKeepAliveHandler())
                .addLast("expect", new HttpServerExpectContinueHandler())
                .addLast("gateway", new GatewayHandler(shared, secure));
    }

    /**
     * An HTTP/2 connection's handlers: frames, and one child channel per stream. Inserted where it is added (h2c's
     * prior-knowledge handler puts it in its own place, ALPN at the end), it puts them right after itself and takes
     * the HTTP/1.1 handlers out, so the bytes that made the choice reach the frame codec first.
     */
    private ChannelHandler http2(boolean secure) {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void handlerAdded(ChannelHandlerContext ctx) {
                ChannelPipeline pipeline = ctx.pipeline();
                for (String http1 : List.of("gateway", "expect", "keep-alive")) {
                    if (pipeline.get(http1) != null) pipeline.remove(http1);
                }
                // The stream multiplexer checks, when added, that the frame codec is before it.
                pipeline.addAfter(ctx.name(), "h2-frames", Http2FrameCodecBuilder.forServer().build());
                pipeline.addAfter("h2-frames", "h2-streams", new Http2MultiplexHandler(streams(secure)));
            }
        };
    }

    /** Each HTTP/2 stream's handlers: its frames as HTTP/1 objects, proxied like an HTTP/1.1 connection's. */
    private ChannelHandler streams(boolean secure) {
        return new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true, false), new GatewayHandler(shared, secure));
            }
        };
    }

    /**
     * Serves an h2c upgrade request that has a body as HTTP/1.1 (a server may ignore an upgrade): switching would mean
     * buffering its whole body first.
     */
    @ChannelHandler.Sharable
    private static final class NoUpgradeWithBody extends ChannelInboundHandlerAdapter {
        static final NoUpgradeWithBody INSTANCE = new NoUpgradeWithBody();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof HttpRequest request && request.headers().contains(HttpHeaderNames.UPGRADE)
                    && (HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0)) {
                request.headers().remove(HttpHeaderNames.UPGRADE);
            }
            super.channelRead(ctx, msg);
        }
    }

    /** After the TLS handshake: HTTP/2 or HTTP/1.1, as the client and the gateway agreed by ALPN. */
    private final class Negotiation extends ApplicationProtocolNegotiationHandler {
        Negotiation() {
            super(ApplicationProtocolNames.HTTP_1_1);
        }

        @Override
        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
            if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                ctx.pipeline().addLast(http2(true));
            } else {
                http1(ctx.pipeline(), true, true);
            }
        }

        @Override
        protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }

    /** One certificate as served by SNI: the name it was obtained for, the key, its TLS context. */
    private record SniCertificate(String alias, CertifiedKey key, SslContext context) {}

    private static List<SniCertificate> sniCertificates(Map<String, CertifiedKey> certificates) throws IOException {
        var contexts = new ArrayList<SniCertificate>(certificates.size());
        for (var entry : certificates.entrySet()) {
            try {
                var context = SslContextBuilder.forServer(entry.getValue().key(), entry.getValue().chain())
                        .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                        .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                                ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
                        .build();
                contexts.add(new SniCertificate(entry.getKey(), entry.getValue(), context));
            } catch (SSLException | IllegalArgumentException e) {
                throw new IOException("load TLS certificate " + entry.getKey() + ": " + e.getMessage(), e);
            }
        }
        return List.copyOf(contexts);
    }

    /** Certificates obtained for no host in particular, under aliases no host name has ({@code cert-0}, …). */
    private static Map<String, CertifiedKey> aliased(List<CertifiedKey> certificates) {
        var aliased = new LinkedHashMap<String, CertifiedKey>();
        for (CertifiedKey certificate : certificates) aliased.put("cert-" + aliased.size(), certificate);
        return aliased;
    }

    /** Configures a {@link Gateway}; by default HTTP on 127.0.0.1 with a free port, no HTTPS, no waker. */
    public static final class Builder {
        private final RouteTable table;
        private InetSocketAddress httpListen = new InetSocketAddress("127.0.0.1", 0);
        private InetSocketAddress httpsListen;
        private final List<CertifiedKey> certificates = new ArrayList<>();
        private Waker waker = Waker.NONE;
        private Http01Challenges challenges = new Http01Challenges();
        private Duration wakeTimeout = Duration.ofSeconds(30);
        private Duration connectTimeout = Duration.ofSeconds(2);
        private OutlierPolicy outlierPolicy = OutlierPolicy.DEFAULT;
        private Transport transport = Transport.best();
        private int eventLoops = DEFAULT_EVENT_LOOPS;
        private ClientLimits clientLimits = ClientLimits.DEFAULT;

        private Builder(RouteTable table) {
            this.table = Objects.requireNonNull(table, "table");
        }

        public Builder httpListen(InetSocketAddress address) {
            this.httpListen = Objects.requireNonNull(address, "address");
            return this;
        }

        /**
         * Listens for HTTPS too, serving these certificates by SNI; with none, a self-signed placeholder until
         * {@link Gateway#replaceCertificates} (a {@link CertificateKeeper} issuing them on demand).
         */
        public Builder httpsListen(InetSocketAddress address, List<CertifiedKey> certificates) {
            this.httpsListen = Objects.requireNonNull(address, "address");
            this.certificates.clear();
            this.certificates.addAll(certificates.isEmpty() ? List.of(DevelopmentCa.selfSigned("bolero-gateway"))
                    : certificates);
            return this;
        }

        /** Answers these ACME HTTP-01 challenges on the HTTP listener (by default none). */
        public Builder challenges(Http01Challenges challenges) {
            this.challenges = Objects.requireNonNull(challenges, "challenges");
            return this;
        }

        public Builder waker(Waker waker) {
            this.waker = Objects.requireNonNull(waker, "waker");
            return this;
        }

        /** How long a request for a fleet with {@code auto_start} waits for a machine before a 503. */
        public Builder wakeTimeout(Duration timeout) {
            this.wakeTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /** How long connecting to a machine may take before the attempt counts as failed. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        public Builder outlierPolicy(OutlierPolicy policy) {
            this.outlierPolicy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * Which kernel interface the event loops use: {@code io_uring}, {@code epoll} or {@code nio}; by default the
         * first of those this host supports.
         *
         * @throws IllegalArgumentException when the name is none of those, or this host does not support it
         */
        public Builder transport(String name) {
            this.transport = Transport.named(name);
            return this;
        }

        /**
         * How many event loops serve both listeners and the machine connections (by default one per core). Fewer
         * leave cores to what shares the host: on the 2-core host of {@code bench/gateway.sh}, shared with the load
         * generator and the backend, one loop spent 12 µs of CPU per proxied request against 15 for two.
         *
         * @throws IllegalArgumentException below 1 or above {@value #MAX_EVENT_LOOPS}
         */
        public Builder eventLoops(int count) {
            if (count < 1 || count > MAX_EVENT_LOOPS) {
                throw new IllegalArgumentException("event loops must be between 1 and " + MAX_EVENT_LOOPS + ", got "
                        + count);
            }
            this.eventLoops = count;
            return this;
        }

        /**
         * What a client may hold on either listener (by default {@link ClientLimits#DEFAULT}): a dripping client's
         * request holds a machine's slot under its fleet's concurrency limit, so this guards the machines too.
         */
        public Builder clientLimits(ClientLimits limits) {
            this.clientLimits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        /**
         * Binds the listeners and starts serving.
         *
         * @throws IOException when a listener cannot be bound or the certificates cannot be loaded
         */
        public Gateway start() throws IOException {
            return new Gateway(this);
        }
    }
}
