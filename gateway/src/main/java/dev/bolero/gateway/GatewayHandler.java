package dev.bolero.gateway;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpScheme;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.PreEncodedHttpField;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.proxy.ProxyHandler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Routes each request by host to a machine chosen by the {@link Balancer} and proxies it with Jetty's
 * {@link ProxyHandler} (streaming both bodies), or tunnels it when it asks for a WebSocket upgrade. Retries an
 * idempotent request without a body on another machine when the first could not be reached or dropped it before
 * answering. Holds a request for a fleet with {@code auto_start} and no healthy machine until one appears or the
 * wake deadline passes; a woken machine that refuses such a request (its workload is not listening yet) gets it again
 * every {@link #WAKE_RETRY} until then. A fleet with {@code force_https} has its plain requests redirected (301) to the HTTPS
 * listener, when there is one. Answers ACME HTTP-01 challenges ({@link Http01Challenges}) on plain HTTP before routing.
 */
final class GatewayHandler extends ProxyHandler {
    private static final String EXCHANGE = Exchange.class.getName();
    private static final HttpField PROTO_HTTP = new PreEncodedHttpField("X-Forwarded-Proto", "http");
    private static final HttpField PROTO_HTTPS = new PreEncodedHttpField("X-Forwarded-Proto", "https");
    private static final int MAX_ATTEMPTS = 3;
    /** How soon a request held for a woken machine that refused it tries again. */
    private static final Duration WAKE_RETRY = Duration.ofMillis(100);

    private final RouteTable table;
    private final Balancer balancer;
    private final Waker waker;
    private final Duration wakeTimeout;
    private final Duration connectTimeout;
    private final IntSupplier httpsPort;
    private final Http01Challenges challenges;
    private final WebSocketTunnel tunnel;
    private volatile Executor executor;

    GatewayHandler(RouteTable table, Balancer balancer, Waker waker, Duration wakeTimeout, Duration connectTimeout,
                   IntSupplier httpsPort, Http01Challenges challenges) {
        this.table = table;
        this.balancer = balancer;
        this.waker = waker;
        this.wakeTimeout = wakeTimeout;
        this.connectTimeout = connectTimeout;
        this.httpsPort = httpsPort;
        this.challenges = challenges;
        this.tunnel = new WebSocketTunnel(connectTimeout);
    }

    @Override
    protected void doStart() throws Exception {
        executor = getServer().getThreadPool();
        setUseServerThreadPool(true);
        super.doStart();
    }

    /**
     * Nothing in {@link #handle} blocks (the balancer is lock-free, proxying and waiting for a wake are asynchronous,
     * a WebSocket tunnel opens on its own virtual thread), so Jetty may call it on the thread that parsed the request.
     */
    @Override
    public InvocationType getInvocationType() {
        return InvocationType.NON_BLOCKING;
    }

    @Override
    protected void configureHttpClient(HttpClient client) {
        super.configureHttpClient(client);
        client.setConnectTimeout(connectTimeout.toMillis());
        client.setMaxConnectionsPerDestination(1024);
        client.setMaxRequestsQueuedPerDestination(16384);
        client.setIdleTimeout(30_000);
        client.getClientConnector().setSelectors(Gateway.SELECTORS);
        // The proxy's response listeners never block (they write to the client asynchronously), so a machine's answer
        // is handled on the selector thread that read it rather than handed to a pool thread (a context switch each).
        client.getHttpClientTransport().setInvocationType(InvocationType.NON_BLOCKING);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        Optional<String> challenge = request.isSecure() ? Optional.empty()
                : challenges.answer(request.getHttpURI().getPath());
        if (challenge.isPresent()) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
            Content.Sink.write(response, true, challenge.get(), callback);
            return true;
        }
        String host = request.getHttpURI().getHost();
        Optional<Route> route = table.current().resolve(host);
        if (route.isEmpty()) {
            Refusal.UNKNOWN_HOST.send(request, response, callback, "no fleet answers to host " + host);
            return true;
        }
        if (route.get().forceHttps() && !request.isSecure() && httpsPort.getAsInt() > 0) {
            int port = httpsPort.getAsInt();
            String target = HttpURI.build(request.getHttpURI()).scheme(HttpScheme.HTTPS).port(port == 443 ? -1 : port).asString();
            Response.sendRedirect(request, response, callback, 301, target, true);
            return true;
        }
        String requestId = RequestIds.keepOrCreate(request.getHeaders().get(RequestIds.HEADER));
        response.getHeaders().put(RequestIds.HEADER, requestId);
        var exchange = new Exchange(request, response, callback, host, requestId, route.get());
        dispatch(exchange, System.nanoTime() + wakeTimeout.toNanos());
        return true;
    }

    /** Takes a machine for the exchange and forwards it, or answers with why none can take it. */
    private void dispatch(Exchange exchange, long wakeDeadline) {
        Route route = exchange.route;
        switch (balancer.acquire(route, exchange.tried())) {
            case Balancer.Choice.Chosen chosen -> {
                if (chosen.saturated() && route.autoStart()) {
                    waker.wake(route.fleet(), Waker.Reason.OVER_SOFT_LIMIT);
                }
                exchange.hold(chosen.lease());
                forward(exchange);
            }
            case Balancer.Choice.AtHardLimit ignored -> Refusal.AT_CAPACITY.send(exchange.request, exchange.response, exchange.client,
                    "every machine of fleet " + route.fleet() + " is at its hard limit of " + route.concurrency().hardLimit() + " requests");
            case Balancer.Choice.NoHealthyMachine ignored -> {
                if (!exchange.tried().isEmpty()) {
                    Refusal.MACHINE_FAILED.send(exchange.request, exchange.response, exchange.client,
                            "fleet " + route.fleet() + ": machines " + exchange.tried() + " failed and no other is healthy");
                } else if (route.autoStart() && waker.wake(route.fleet(), Waker.Reason.NO_HEALTHY_MACHINE)) {
                    awaitMachine(exchange, wakeDeadline);
                } else {
                    Refusal.NO_MACHINE.send(exchange.request, exchange.response, exchange.client,
                            "fleet " + route.fleet() + " has no healthy machine");
                }
            }
        }
    }

    /** Waits for the route table to list a healthy machine of the exchange's fleet, at most until the deadline. */
    private void awaitMachine(Exchange exchange, long deadline) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            Refusal.WAKE_TIMEOUT.send(exchange.request, exchange.response, exchange.client,
                    "fleet " + exchange.route.fleet() + ": no machine became healthy within " + wakeTimeout);
            return;
        }
        // Wait for the change after the current routes, then look at them: a change made after the wake and before
        // the wait (the waker may answer at once) is in them, not in the next change.
        var change = table.nextChange();
        if (decided(exchange, deadline)) return;
        change.toCompletableFuture().copy().orTimeout(left, TimeUnit.NANOSECONDS).whenCompleteAsync((routes, timeout) -> {
            if (!decided(exchange, deadline)) awaitMachine(exchange, deadline);
        }, executor);
    }

    /**
     * Dispatches the exchange when the current routes list a healthy machine of its fleet, or refuses it when the
     * fleet is gone; false (nothing done) while the fleet has no healthy machine.
     */
    private boolean decided(Exchange exchange, long deadline) {
        Optional<Route> route = table.current().fleet(exchange.route.fleet());
        if (route.isEmpty()) {
            Refusal.UNKNOWN_HOST.send(exchange.request, exchange.response, exchange.client,
                    "fleet " + exchange.route.fleet() + " no longer exists");
            return true;
        }
        exchange.route = route.get();
        if (route.get().backends().stream().noneMatch(Backend::healthy)) return false;
        exchange.woken(deadline);
        dispatch(exchange, deadline);
        return true;
    }

    private void forward(Exchange exchange) {
        Request request = exchange.request;
        if (WebSocketTunnel.isUpgrade(request)) {
            tunnel.open(exchange, this::forwardHeaders);
            return;
        }
        request.setAttribute(EXCHANGE, exchange);
        super.handle(request, exchange.response, exchange);
    }

    @Override
    protected HttpURI rewriteHttpURI(Request request) {
        Backend backend = ((Exchange) request.getAttribute(EXCHANGE)).lease().backend;
        return HttpURI.build(request.getHttpURI()).scheme(HttpScheme.HTTP).host(backend.host()).port(backend.port());
    }

    @Override
    protected org.eclipse.jetty.client.Request newProxyToServerRequest(Request request, HttpURI target) {
        // The machine speaks HTTP/1.1 whatever the client spoke.
        return super.newProxyToServerRequest(request, target).version(HttpVersion.HTTP_1_1);
    }

    @Override
    protected void addProxyHeaders(Request request, org.eclipse.jetty.client.Request proxyToServerRequest) {
        Exchange exchange = (Exchange) request.getAttribute(EXCHANGE);
        proxyToServerRequest.headers(headers -> forwardHeaders(exchange, headers));
    }

    /**
     * Sets what the machine learns of the client: its address, scheme and host, and the request id. The gateway is
     * the edge, so a client's own {@code X-Forwarded-*} values are replaced, not trusted.
     */
    void forwardHeaders(Exchange exchange, org.eclipse.jetty.http.HttpFields.Mutable headers) {
        headers.put(HttpHeader.HOST, exchange.request.getHttpURI().getAuthority());
        headers.put(HttpHeader.X_FORWARDED_FOR, Request.getRemoteAddr(exchange.request));
        headers.put(exchange.secure ? PROTO_HTTPS : PROTO_HTTP);
        headers.put(HttpHeader.X_FORWARDED_HOST, exchange.host);
        headers.put(RequestIds.HEADER, exchange.requestId);
    }

    @Override
    protected void onServerToProxyResponseFailure(Request request, org.eclipse.jetty.client.Request proxyToServerRequest,
            org.eclipse.jetty.client.Response serverToProxyResponse, Response response, Callback callback, Throwable failure) {
        Exchange exchange = (Exchange) callback;
        if (!response.isCommitted() && replayable(request) && exchange.waking(System.nanoTime())) {
            // A woken machine runs before its workload listens: try again shortly, until the wake deadline.
            exchange.releaseStartingMachine();
            response.reset();
            response.getHeaders().put(RequestIds.HEADER, exchange.requestId);
            CompletableFuture.delayedExecutor(WAKE_RETRY.toMillis(), TimeUnit.MILLISECONDS, executor).execute(() -> {
                exchange.route = table.current().fleet(exchange.route.fleet()).orElse(exchange.route);
                dispatch(exchange, exchange.wakeDeadline());
            });
            return;
        }
        if (!response.isCommitted() && replayable(request) && exchange.tried().size() + 1 < MAX_ATTEMPTS) {
            exchange.abandonFailedMachine();
            response.reset();
            response.getHeaders().put(RequestIds.HEADER, exchange.requestId);
            exchange.route = table.current().fleet(exchange.route.fleet()).orElse(exchange.route);
            dispatch(exchange, System.nanoTime());
            return;
        }
        exchange.machineFailed();
        super.onServerToProxyResponseFailure(request, proxyToServerRequest, serverToProxyResponse, response, callback, failure);
    }

    /** Idempotent and without a body: sending it again to another machine is safe and possible. */
    private static boolean replayable(Request request) {
        String method = request.getMethod();
        boolean idempotent = HttpMethod.GET.is(method) || HttpMethod.HEAD.is(method) || HttpMethod.OPTIONS.is(method)
                || HttpMethod.PUT.is(method) || HttpMethod.DELETE.is(method) || HttpMethod.TRACE.is(method);
        return idempotent && request.getLength() <= 0 && !request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING);
    }
}
