package dev.bolero.gateway;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Proxies the requests of one client connection (or one HTTP/2 stream), one at a time, to the machines the
 * {@link Balancer} chooses: routes each by host, forwards it with the forwarding headers over a machine connection
 * kept on this connection's event loop ({@link MachineLink}), and streams the answer back, both bodies with
 * backpressure. Retries an idempotent request without a body on another machine when the first could not be reached
 * or dropped it before answering. Holds a request for a fleet with {@code auto_start} and no healthy machine until
 * one appears or the wake deadline passes; a woken machine that refuses such a request (its workload is not listening
 * yet) gets it again every {@link #WAKE_RETRY} until then. Passes an HTTP/1.1 upgrade (WebSocket) through as a tunnel
 * once the machine switches protocols ({@link Relay}). A fleet with {@code force_https} has its plain requests
 * redirected (301) to the HTTPS listener, when there is one. Answers ACME HTTP-01 challenges ({@link Http01Challenges})
 * on plain HTTP before routing. Everything runs on the connection's event loop and nothing blocks.
 */
final class GatewayHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(GatewayHandler.class);
    private static final int MAX_ATTEMPTS = 3;
    /** How soon a request held for a woken machine that refused it tries again. */
    private static final Duration WAKE_RETRY = Duration.ofMillis(100);
    /** Pipelined requests read ahead of the one being answered before the connection stops reading. */
    private static final int MAX_QUEUED = 64;
    /** Request headers that describe the client's hop only (the forwarding ones are set anew). */
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString HTTPS = AsciiString.cached("https");
    private static final List<CharSequence> HOP_BY_HOP = List.of(HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE,
            HttpHeaderNames.PROXY_CONNECTION, HttpHeaderNames.TE, HttpHeaderNames.TRAILER, HttpHeaderNames.UPGRADE,
            HttpHeaderNames.PROXY_AUTHORIZATION);

    /** What every connection's handler shares: the routes, the balancer and how to reach and wake machines. */
    record Shared(RouteTable table, Balancer balancer, Waker waker, Duration wakeTimeout, Duration connectTimeout,
                  IntSupplier httpsPort, Http01Challenges challenges, Transport transport, long minBodyRate) {}

    private final Shared shared;
    private final boolean secure;
    private ChannelHandlerContext ctx;
    /** The client's TCP connection: this channel, or the parent of an HTTP/2 stream. */
    private Channel connection;
    private ClientGuard.HeadDeadline headDeadline;
    private String clientAddress;

    /** The request being answered; null between requests and once answered. */
    private Exchange exchange;
    /** Between a request head and its last content. */
    private boolean reading;
    /** The client's request was read whole while its exchange lasts (so it waits for the answer). */
    private boolean awaiting;
    /** The answer to the client began: the exchange can no longer go to another machine. */
    private boolean answered;
    /** The machine's last answer was informational (1xx): its end is not the exchange's end. */
    private boolean interim;
    /** The machine connection the exchange is sent over, once connected. */
    private MachineLink machine;
    /** Request content read before the machine connection was ready. */
    private final List<HttpContent> pending = new ArrayList<>();
    /** Requests (and their content) read while an earlier one on this connection is still being answered. */
    private final ArrayDeque<Object> queued = new ArrayDeque<>();
    private long bodyWaitSince;
    private long bodyBytes;

    GatewayHandler(Shared shared, boolean secure) {
        this.shared = shared;
        this.secure = secure;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        connection = ctx.channel() instanceof Http2StreamChannel stream ? stream.parent() : ctx.channel();
        headDeadline = connection.pipeline().get(ClientGuard.HeadDeadline.class);
        clientAddress = connection.remoteAddress() instanceof InetSocketAddress address
                ? address.getAddress().getHostAddress() : String.valueOf(connection.remoteAddress());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!queued.isEmpty() || (exchange != null && !reading && msg instanceof HttpRequest)) {
            queued.add(msg);
            updateClientReading();
            return;
        }
        read(msg);
    }

    private void read(Object msg) {
        if (msg instanceof FullHttpRequest full) {
            // An HTTP/2 stream's request that ended with its headers (or an aggregated one): head, then its content.
            begin(full);
            body(new DefaultLastHttpContent(full.content(), full.trailingHeaders()));
        } else if (msg instanceof HttpRequest request) {
            begin(request);
        } else if (msg instanceof HttpContent content) {
            body(content);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (machine != null) machine.channel.flush();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (machine != null) autoRead(machine.channel, ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (exchange != null) {
            // The client left: the machine was not the reason, and its connection is mid-exchange.
            if (machine != null) machine.abandon();
            endExchange();
        }
        pending.forEach(ReferenceCountUtil::release);
        pending.clear();
        queued.forEach(ReferenceCountUtil::release);
        queued.clear();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("client connection from {} failed: {}", clientAddress, cause.toString());
        ctx.close();
    }

    // ---- the client's request

    private void begin(HttpRequest request) {
        reading = true;
        answered = false;
        interim = false;
        bodyWaitSince = System.nanoTime();
        bodyBytes = 0;
        if (headDeadline != null) headDeadline.headArrived();
        if (request.decoderResult().isFailure()) {
            badRequest(request.decoderResult().cause());
            return;
        }
        Optional<String> challenge = secure ? Optional.empty() : shared.challenges().answer(path(request.uri()));
        if (challenge.isPresent()) {
            answerLocally(ok(challenge.get()));
            return;
        }
        String host = host(request);
        Optional<Route> route = shared.table().current().resolve(host);
        if (route.isEmpty()) {
            answerLocally(Refusal.UNKNOWN_HOST.answer(request.headers(), "no fleet answers to host " + host));
            return;
        }
        if (route.get().forceHttps() && !secure && shared.httpsPort().getAsInt() > 0) {
            int port = shared.httpsPort().getAsInt();
            var redirect = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.MOVED_PERMANENTLY);
            redirect.headers().set(HttpHeaderNames.LOCATION, "https://" + host + (port == 443 ? "" : ":" + port)
                    + pathQuery(request.uri()));
            redirect.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            answerLocally(redirect);
            return;
        }
        String requestId = RequestIds.keepOrCreate(request.headers().get(RequestIds.HEADER));
        boolean upgrade = isUpgrade(request);
        exchange = new Exchange(forwarded(request, host, requestId, upgrade), host, requestId, replayable(request),
                upgrade, route.get());
        dispatch(System.nanoTime() + shared.wakeTimeout().toNanos());
    }

    private void body(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        if (!reading) {
            content.release();
            return;
        }
        if (last) {
            reading = false;
        } else if (bodyTooSlow(content.content().readableBytes())) {
            content.release();
            return;
        }
        if (exchange == null) {
            content.release();
        } else if (machine != null) {
            machine.channel.write(content, machine.channel.voidPromise());
            if (!machine.channel.isWritable()) updateClientReading();
        } else {
            pending.add(content);
        }
        if (last && exchange != null && !awaiting) {
            awaiting = true;
            ClientGuard.Awaiting.of(connection).started();
        } else if (last && exchange == null) {
            awaitNextHead();
        }
    }

    /**
     * Whether the body so far, counting {@code bytes} more, arrived slower than {@code --min-request-body-rate} since
     * the head did; closes the connection when so.
     */
    private boolean bodyTooSlow(int bytes) {
        long rate = shared.minBodyRate();
        if (rate <= 0) return false;
        bodyBytes += bytes;
        long elapsed = System.nanoTime() - bodyWaitSince;
        if (bodyBytes - bytes <= 0 || elapsed <= 0 || bodyBytes * 1_000_000_000L / elapsed >= rate) return false;
        log.info("{}: closing the connection from {}, the request body arrived at less than {} bytes/s "
                + "(--min-request-body-rate): {} bytes in {} ms", describe(), clientAddress, rate, bodyBytes, elapsed / 1_000_000);
        ctx.close();
        return true;
    }

    // ---- choosing a machine

    /** Takes a machine for the exchange and forwards it, or answers with why none can take it. */
    private void dispatch(long wakeDeadline) {
        Exchange current = exchange;
        Route route = current.route;
        switch (shared.balancer().acquire(route, current.tried())) {
            case Balancer.Choice.Chosen chosen -> {
                if (chosen.saturated() && route.autoStart()) {
                    shared.waker().wake(route.fleet(), Waker.Reason.OVER_SOFT_LIMIT);
                }
                current.hold(chosen.lease());
                connect(current);
            }
            case Balancer.Choice.AtHardLimit ignored -> refuse(Refusal.AT_CAPACITY, "every machine of fleet " + route.fleet()
                    + " is at its hard limit of " + route.concurrency().hardLimit() + " requests");
            case Balancer.Choice.NoHealthyMachine ignored -> {
                if (!current.tried().isEmpty()) {
                    refuse(Refusal.MACHINE_FAILED, "fleet " + route.fleet() + ": machines " + current.tried()
                            + " failed and no other is healthy");
                } else if (route.autoStart() && shared.waker().wake(route.fleet(), Waker.Reason.NO_HEALTHY_MACHINE)) {
                    awaitMachine(current, wakeDeadline);
                } else {
                    refuse(Refusal.NO_MACHINE, "fleet " + route.fleet() + " has no healthy machine");
                }
            }
        }
    }

    /** Waits for the route table to list a healthy machine of the exchange's fleet, at most until the deadline. */
    private void awaitMachine(Exchange current, long deadline) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            refuse(Refusal.WAKE_TIMEOUT, "fleet " + current.route.fleet() + ": no machine became healthy within "
                    + shared.wakeTimeout());
            return;
        }
        // Wait for the change after the current routes, then look at them: a change made after the wake and before
        // the wait (the waker may answer at once) is in them, not in the next change.
        var change = shared.table().nextChange();
        if (decided(current, deadline)) return;
        change.toCompletableFuture().copy().orTimeout(left, TimeUnit.NANOSECONDS).whenComplete((routes, timeout) ->
                ctx.executor().execute(() -> {
                    if (exchange == current && !decided(current, deadline)) awaitMachine(current, deadline);
                }));
    }

    /**
     * Dispatches the exchange when the current routes list a healthy machine of its fleet, or refuses it when the
     * fleet is gone; false (nothing done) while the fleet has no healthy machine.
     */
    private boolean decided(Exchange current, long deadline) {
        Optional<Route> route = shared.table().current().fleet(current.route.fleet());
        if (route.isEmpty()) {
            refuse(Refusal.UNKNOWN_HOST, "fleet " + current.route.fleet() + " no longer exists");
            return true;
        }
        current.route = route.get();
        if (route.get().backends().stream().noneMatch(Backend::healthy)) return false;
        current.woken(deadline);
        dispatch(deadline);
        return true;
    }

    /** Sends the exchange over an idle connection to its machine on this event loop, or a new one. */
    private void connect(Exchange current) {
        Backend backend = current.lease().backend;
        if (!current.upgrade) {
            MachineLink idle = MachineLink.idle(backend);
            if (idle != null) {
                send(idle);
                return;
            }
        }
        var link = new MachineLink(backend);
        shared.transport().connecting(new Bootstrap()).group(ctx.channel().eventLoop())
                .channel(shared.transport().clientChannel)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) shared.connectTimeout().toMillis())
                .handler(link.initializer())
                .connect(backend.host(), backend.port())
                .addListener((ChannelFutureListener) connected -> {
                    if (exchange != current || current.lease().backend != backend) {
                        connected.channel().close();
                    } else if (connected.isSuccess()) {
                        send(link);
                    } else {
                        machineFailed(link, "connect: " + connected.cause().getMessage());
                    }
                });
    }

    private void send(MachineLink link) {
        machine = link;
        link.serve(this);
        // Void promises: nothing waits on these writes (a failed one closes the channel), so no promise per write.
        link.channel.write(exchange.head, link.channel.voidPromise());
        if (!pending.isEmpty()) {
            for (HttpContent content : pending) link.channel.write(content, link.channel.voidPromise());
            pending.clear();
        } else if (!reading) {
            // A retry: the request (without a body) was read whole and sent to a machine before.
            link.channel.write(LastHttpContent.EMPTY_LAST_CONTENT, link.channel.voidPromise());
        }
        link.channel.flush();
        autoRead(link.channel, ctx.channel().isWritable());
        updateClientReading();
    }

    // ---- the machine's answer (called by the MachineLink, on this event loop)

    void fromMachine(Object msg) {
        if (msg instanceof HttpResponse response) {
            if (exchange.upgrade && response.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
                tunnel(response);
                return;
            }
            machine.reusable(!exchange.upgrade && HttpUtil.isKeepAlive(response));
            int code = response.status().code();
            interim = code >= 100 && code < 200;
            answered = true;
            dropHopByHop(response.headers());
            response.headers().set(RequestIds.HEADER, exchange.requestId);
            ctx.write(response, ctx.voidPromise());
        }
        if (msg instanceof HttpContent content) {
            boolean last = content instanceof LastHttpContent;
            if (last && interim) {
                interim = false;
                content.release();
                return;
            }
            if (last) {
                ctx.writeAndFlush(content, ctx.voidPromise());
                answeredWhole();
                return;
            }
            ctx.write(content, ctx.voidPromise());
            if (!ctx.channel().isWritable()) autoRead(machine.channel, false);
        } else if (!(msg instanceof HttpResponse)) {
            ReferenceCountUtil.release(msg);
        }
    }

    void flushToClient() {
        ctx.flush();
    }

    void machineWritabilityChanged() {
        updateClientReading();
    }

    /**
     * The machine connection failed before the exchange ended (could not connect, closed, broke): another machine
     * gets the request when it is safe to send again and nothing was answered yet; else the client gets a 502, or, when
     * the answer had begun, its connection (or stream) closed.
     */
    void machineFailed(MachineLink link, String why) {
        if (exchange == null || (machine != null && machine != link)) return;
        machine = null;
        Exchange current = exchange;
        Backend backend = current.lease().backend;
        if (!answered && current.replayable && current.waking(System.nanoTime())) {
            // A woken machine runs before its workload listens: try again shortly, until the wake deadline.
            current.releaseStartingMachine();
            ctx.executor().schedule(() -> {
                if (exchange != current) return;
                current.route = shared.table().current().fleet(current.route.fleet()).orElse(current.route);
                dispatch(current.wakeDeadline());
            }, WAKE_RETRY.toMillis(), TimeUnit.MILLISECONDS);
            return;
        }
        if (!answered && current.replayable && current.tried().size() + 1 < MAX_ATTEMPTS) {
            current.abandonFailedMachine();
            current.route = shared.table().current().fleet(current.route.fleet()).orElse(current.route);
            dispatch(System.nanoTime());
            return;
        }
        current.machineFailed();
        if (!answered) {
            refuse(Refusal.MACHINE_FAILED, "machine " + backend.machineId() + " of fleet " + current.route.fleet()
                    + ": " + why);
        } else {
            log.info("{}: machine {} failed mid-answer ({}); closing the client's {}", describe(), backend.machineId(),
                    why, ctx.channel() instanceof Http2StreamChannel ? "stream" : "connection");
            endExchange();
            ctx.close();
        }
    }

    // ---- ends

    private void answeredWhole() {
        MachineLink link = machine;
        machine = null;
        endExchange();
        if (link != null) {
            // A machine that answered before the whole request reached it has a connection mid-request.
            if (reading) link.reusable(false);
            link.release();
        }
        if (!reading) awaitNextHead();
        drainQueue();
    }

    private void endExchange() {
        if (awaiting) {
            awaiting = false;
            ClientGuard.Awaiting.of(connection).ended();
        }
        if (exchange != null) {
            exchange.finish();
            exchange = null;
        }
        pending.forEach(ReferenceCountUtil::release);
        pending.clear();
        updateClientReading();
    }

    private void refuse(Refusal refusal, String message) {
        var answer = refusal.answer(exchange.head.headers(), message);
        answer.headers().set(RequestIds.HEADER, exchange.requestId);
        endExchange();
        ctx.writeAndFlush(answer);
        afterLocalAnswer();
    }

    private void answerLocally(FullHttpResponse answer) {
        ctx.writeAndFlush(answer);
        afterLocalAnswer();
    }

    private void afterLocalAnswer() {
        if (!reading) awaitNextHead();
        drainQueue();
    }

    /** An HTTP/1 connection's request was answered and read whole: the next head's first byte starts its deadline. */
    private void awaitNextHead() {
        if (connection == ctx.channel() && headDeadline != null) headDeadline.awaitHead();
    }

    private void badRequest(Throwable cause) {
        reading = false;
        HttpResponseStatus status = cause instanceof TooLongFrameException
                ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE : HttpResponseStatus.BAD_REQUEST;
        byte[] body = ("bad request: " + cause.getMessage() + "\n").getBytes(StandardCharsets.UTF_8);
        var answer = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        answer.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        answer.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        answer.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
    }

    /** Reads the requests that waited for the one just answered, until one of them is being answered in turn. */
    private void drainQueue() {
        while (!queued.isEmpty() && ctx.channel().isActive()) {
            Object next = queued.peek();
            if (exchange != null && !reading && next instanceof HttpRequest) break;
            read(queued.poll());
        }
        // What the queue gave the machine goes out now: no read of the client's follows to flush it.
        if (machine != null) machine.channel.flush();
        updateClientReading();
    }

    /** Reads from the client unless the machine cannot take more yet or too many requests wait their turn. */
    private void updateClientReading() {
        boolean machineFull = machine != null && !machine.channel.isWritable();
        autoRead(ctx.channel(), !machineFull && queued.size() < MAX_QUEUED);
    }

    /** Sets whether {@code channel} reads on its own, when that changes (setting it costs even when it does not). */
    static void autoRead(Channel channel, boolean read) {
        if (channel.config().isAutoRead() != read) channel.config().setAutoRead(read);
    }

    /** Whether the client's request body is still arriving (so a machine may be silent while it waits for it). */
    boolean sending() {
        return reading;
    }

    // ---- a protocol upgrade

    /** The machine switched protocols: answers the client the same and passes bytes both ways from now on. */
    private void tunnel(HttpResponse switched) {
        MachineLink link = machine;
        Exchange current = exchange;
        machine = null;
        exchange = null;
        answered = true;
        switched.headers().set(RequestIds.HEADER, current.requestId);
        ctx.writeAndFlush(switched);
        Relay.join(ctx.channel(), link.channel, current::finish);
        log.debug("{}: tunnel to machine {} open", current.host, current.lease().backend.machineId());
    }

    // ---- the request as forwarded

    private HttpRequest forwarded(HttpRequest request, String host, String requestId, boolean upgrade) {
        HttpHeaders headers = request.headers();
        String upgradeTo = upgrade ? headers.get(HttpHeaderNames.UPGRADE) : null;
        boolean bodyMayFollow = !(request instanceof LastHttpContent);
        dropHopByHop(headers);
        if (ctx.channel() instanceof Http2StreamChannel) {
            for (var name : HttpConversionUtil.ExtensionHeaderNames.values()) headers.remove(name.text());
            if (bodyMayFollow && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)) HttpUtil.setTransferEncodingChunked(request, true);
        }
        if (!headers.contains(HttpHeaderNames.HOST)) headers.set(HttpHeaderNames.HOST, host);
        headers.set(X_FORWARDED_FOR, clientAddress);
        headers.set(X_FORWARDED_PROTO, secure ? HTTPS : HTTP);
        headers.set(X_FORWARDED_HOST, host);
        headers.set(RequestIds.HEADER, requestId);
        if (upgrade) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
            headers.set(HttpHeaderNames.UPGRADE, upgradeTo);
        }
        String uri = pathQuery(request.uri());
        if (request instanceof FullHttpRequest || request.protocolVersion() != HttpVersion.HTTP_1_1 || !uri.equals(request.uri())) {
            // The machine speaks HTTP/1.1 whatever the client spoke; a full request's content goes as content.
            return new DefaultHttpRequest(HttpVersion.HTTP_1_1, request.method(), uri, headers);
        }
        return request;
    }

    /** Drops the headers that describe one hop only, and those the {@code Connection} header names. */
    private static void dropHopByHop(HttpHeaders headers) {
        String connection = headers.get(HttpHeaderNames.CONNECTION);
        if (connection != null && connection.indexOf(',') < 0 && !connection.equalsIgnoreCase("close")
                && !connection.equalsIgnoreCase("keep-alive") && !connection.equalsIgnoreCase("upgrade")) {
            headers.remove(connection.trim());
        } else if (connection != null && connection.indexOf(',') >= 0) {
            for (String name : connection.split(",")) headers.remove(name.trim());
        }
        for (CharSequence name : HOP_BY_HOP) headers.remove(name);
    }

    private static boolean isUpgrade(HttpRequest request) {
        return request.protocolVersion() == HttpVersion.HTTP_1_1 && request.headers().contains(HttpHeaderNames.UPGRADE)
                && request.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    }

    /** Idempotent and without a body: sending it again to another machine is safe and possible. */
    private boolean replayable(HttpRequest request) {
        HttpMethod method = request.method();
        boolean idempotent = method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD)
                || method.equals(HttpMethod.OPTIONS) || method.equals(HttpMethod.PUT)
                || method.equals(HttpMethod.DELETE) || method.equals(HttpMethod.TRACE);
        if (!idempotent || HttpUtil.isTransferEncodingChunked(request)) return false;
        if (request instanceof FullHttpRequest full) return !full.content().isReadable();
        long length = HttpUtil.getContentLength(request, -1L);
        // Without a length, an HTTP/1.1 request has no body; an HTTP/2 stream's body may still come.
        return length == 0 || (length < 0 && !(ctx.channel() instanceof Http2StreamChannel));
    }

    /** The host the request is for, without a port: from an absolute URI, else the {@code Host} header. */
    private static String host(HttpRequest request) {
        String authority = null;
        String uri = request.uri();
        if (uri.startsWith("http://") || uri.startsWith("https://")) {
            try {
                authority = URI.create(uri).getRawAuthority();
            } catch (IllegalArgumentException e) {
                authority = null;
            }
        }
        if (authority == null) authority = request.headers().get(HttpHeaderNames.HOST, "");
        int at = authority.lastIndexOf('@');
        if (at >= 0) authority = authority.substring(at + 1);
        if (authority.startsWith("[")) {
            int end = authority.indexOf(']');
            return end < 0 ? authority : authority.substring(0, end + 1);
        }
        int colon = authority.indexOf(':');
        return colon < 0 ? authority : authority.substring(0, colon);
    }

    /** The path of a request target (undecoded), whether it came in origin or absolute form. */
    private static String path(String uri) {
        String pathQuery = pathQuery(uri);
        int query = pathQuery.indexOf('?');
        return query < 0 ? pathQuery : pathQuery.substring(0, query);
    }

    /** The path and query of a request target, whether it came in origin or absolute form. */
    private static String pathQuery(String uri) {
        if (uri.startsWith("/") || uri.equals("*")) return uri;
        int scheme = uri.indexOf("://");
        if (scheme < 0) return "/" + uri;
        int path = uri.indexOf('/', scheme + 3);
        int query = uri.indexOf('?', scheme + 3);
        if (path < 0 || (query >= 0 && query < path)) return "/" + (query < 0 ? "" : uri.substring(query));
        return uri.substring(path);
    }

    private static FullHttpResponse ok(String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        var answer = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(bytes));
        answer.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
        answer.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        return answer;
    }

    private String describe() {
        return exchange == null ? "client " + clientAddress : exchange.host + " request " + exchange.requestId;
    }
}
