package dev.bolero.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The gateway in front of real Jetty servers on loopback (each standing for a machine), with real HTTP clients. */
class GatewayIT {
    static {
        // The JDK client sends Host only when allowed to; the gateway routes by it.
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
    }

    static final String DOMAIN = "example.test";
    static final FleetKey WEB_ALPHA = new FleetKey("alpha", "web");
    static final FleetKey WEB_BETA = new FleetKey("beta", "web");

    private final List<AutoCloseable> open = new ArrayList<>();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void closeAll() throws Exception {
        client.close();
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    private TestMachine machine(String id) throws Exception {
        var machine = new TestMachine(id);
        open.add(machine);
        return machine;
    }

    private Gateway gateway(RouteTable table, Gateway.Builder... configured) throws Exception {
        var gateway = (configured.length > 0 ? configured[0] : Gateway.builder(table)).start();
        open.add(gateway);
        return gateway;
    }

    private static Route route(FleetKey fleet, TestMachine... machines) {
        var route = Route.builder(fleet);
        for (TestMachine m : machines) {
            route.backend(m.backend());
        }
        return route.build();
    }

    private HttpResponse<String> get(Gateway gateway, String host, String path, String... headers) throws Exception {
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.httpPort() + path))
                .header("Host", host).timeout(Duration.ofSeconds(20));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aRequestReachesItsFleetByHostNameWithForwardingHeadersAndARequestId() throws Exception {
        var m1 = machine("m1");
        var table = new RouteTable(Routes.builder(DOMAIN).route(route(WEB_ALPHA, m1)).hostname("www.alpha.org", WEB_ALPHA).build());
        var gateway = gateway(table);

        var answer = get(gateway, "web.alpha." + DOMAIN, "/", "X-Forwarded-For", "6.6.6.6");
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.body()).isEqualTo("m1");
        var seen = answer.headers();
        assertThat(seen.firstValue("Seen-Host")).contains("web.alpha." + DOMAIN);
        assertThat(seen.firstValue("Seen-X-Forwarded-For")).contains("127.0.0.1");
        assertThat(seen.firstValue("Seen-X-Forwarded-Proto")).contains("http");
        assertThat(seen.firstValue("Seen-X-Forwarded-Host")).contains("web.alpha." + DOMAIN);
        String id = seen.firstValue("Seen-X-Request-Id").orElseThrow();
        assertThat(id).matches("[0-9a-f]{16}");
        assertThat(seen.firstValue("X-Request-Id")).contains(id);

        var custom = get(gateway, "WWW.alpha.org", "/", "X-Request-Id", "client-id-42");
        assertThat(custom.body()).isEqualTo("m1");
        assertThat(custom.headers().firstValue("Seen-X-Request-Id")).contains("client-id-42");
        assertThat(custom.headers().firstValue("X-Request-Id")).contains("client-id-42");

        var invalid = get(gateway, "web.alpha." + DOMAIN, "/", "X-Request-Id", "no spaces allowed");
        assertThat(invalid.headers().firstValue("Seen-X-Request-Id").orElseThrow()).matches("[0-9a-f]{16}");
    }

    @Test
    void anUnknownHostIsA404AndAFleetWithoutHealthyMachinesA503NeverAHang() throws Exception {
        var down = Route.builder(WEB_ALPHA).backend(new Backend("m1", "127.0.0.1", 9, false)).build();
        var gateway = gateway(new RouteTable(Routes.builder(DOMAIN).route(down).build()));

        var unknown = get(gateway, "nope.alpha." + DOMAIN, "/");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.headers().firstValue("Content-Type")).contains("application/json");
        assertThat(unknown.body()).contains("\"code\":\"not_found\"").contains("nope.alpha." + DOMAIN);

        var none = get(gateway, "web.alpha." + DOMAIN, "/");
        assertThat(none.statusCode()).isEqualTo(503);
        assertThat(none.body()).contains("\"code\":\"unavailable\"").contains("alpha/web has no healthy machine");
        assertThat(none.headers().firstValue("Retry-After")).contains("1");

        var browser = get(gateway, "web.alpha." + DOMAIN, "/", "Accept", "text/html,application/xhtml+xml");
        assertThat(browser.statusCode()).isEqualTo(503);
        assertThat(browser.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/html");
        assertThat(browser.body()).contains("<h1>503</h1>");
    }

    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll", "nio"})
    void everyTransportProxies(String transport) throws Exception {
        var m1 = machine("m1");
        var table = new RouteTable(Routes.builder(DOMAIN).route(route(WEB_ALPHA, m1)).build());
        Gateway.Builder builder;
        try {
            builder = Gateway.builder(table).transport(transport);
        } catch (IllegalArgumentException e) {
            assumeTrue(false, "skipped: " + e.getMessage());
            return;
        }
        var gateway = gateway(table, builder);
        assertThat(gateway.transport()).isEqualTo(transport);
        for (int i = 0; i < 3; i++) {
            var answer = get(gateway, "web.alpha." + DOMAIN, "/echo");
            assertThat(answer.statusCode()).isEqualTo(200);
        }
        var posted = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.httpPort() + "/echo"))
                .header("Host", "web.alpha." + DOMAIN).POST(HttpRequest.BodyPublishers.ofString("x".repeat(300_000)))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(posted.body()).hasSize(300_000);
    }

    @Test
    void oneEventLoopServesManyClientsAndTheirMachinesAndACountOutOfRangeIsRefused() throws Exception {
        var m1 = machine("m1");
        var m2 = machine("m2");
        var table = new RouteTable(Routes.builder(DOMAIN).route(route(WEB_ALPHA, m1, m2)).build());
        assertThatThrownBy(() -> Gateway.builder(table).eventLoops(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("event loops must be between 1 and 1024, got 0");
        assertThatThrownBy(() -> Gateway.builder(table).eventLoops(1025))
                .hasMessage("event loops must be between 1 and 1024, got 1025");
        var gateway = gateway(table, Gateway.builder(table).eventLoops(1));
        assertThat(gateway.eventLoops()).isEqualTo(1);
        // Clients and the machine connections they open all live on the one loop.
        try (var pool = Executors.newFixedThreadPool(8)) {
            var answers = new ArrayList<java.util.concurrent.Future<HttpResponse<String>>>();
            for (int i = 0; i < 40; i++) {
                answers.add(pool.submit(() -> client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                                + gateway.httpPort() + "/echo")).header("Host", "web.alpha." + DOMAIN)
                        .POST(HttpRequest.BodyPublishers.ofString("y".repeat(100_000))).build(),
                        HttpResponse.BodyHandlers.ofString())));
            }
            for (var answer : answers) {
                assertThat(answer.get().statusCode()).isEqualTo(200);
                assertThat(answer.get().body()).hasSize(100_000);
            }
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderOnTheirConnection() throws Exception {
        var m1 = machine("m1");
        var gateway = gateway(new RouteTable(Routes.builder(DOMAIN).route(route(WEB_ALPHA, m1)).build()));
        try (var socket = new java.net.Socket("127.0.0.1", gateway.httpPort())) {
            socket.setSoTimeout(20_000);
            String host = "Host: web.alpha." + DOMAIN + "\r\n";
            // Three requests in one write: a GET, a POST with a body, and a GET that closes the connection.
            String requests = "GET /?first HTTP/1.1\r\n" + host + "X-Request-Id: p-1\r\n\r\n"
                    + "POST /echo HTTP/1.1\r\n" + host + "X-Request-Id: p-2\r\nContent-Length: 6\r\n\r\nsecond"
                    + "GET /?third HTTP/1.1\r\n" + host + "X-Request-Id: p-3\r\nConnection: close\r\n\r\n";
            socket.getOutputStream().write(requests.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String answers = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
            assertThat(answers.split("HTTP/1.1 200 OK", -1)).hasSize(4);
            assertThat(answers.indexOf("X-Request-Id: p-1")).isLessThan(answers.indexOf("X-Request-Id: p-2"));
            assertThat(answers.indexOf("X-Request-Id: p-2")).isLessThan(answers.indexOf("X-Request-Id: p-3"));
            assertThat(answers).contains("\r\nsecond\r\n");
        }
    }

    @Test
    void requestsSpreadOverTheFleetsMachines() throws Exception {
        var m1 = machine("m1");
        var m2 = machine("m2");
        var gateway = gateway(new RouteTable(Routes.builder(DOMAIN).route(route(WEB_ALPHA, m1, m2)).build()));

        var seen = new HashSet<String>();
        for (int i = 0; i < 20; i++) {
            seen.add(get(gateway, "web.alpha." + DOMAIN, "/").body());
        }
        assertThat(seen).containsExactlyInAnyOrder("m1", "m2");
        assertThat(m1.requests.get() + m2.requests.get()).isEqualTo(20);
    }

    @Test
    void anotherNamespacesHostNameNeverRoutesToThisNamespacesMachines() throws Exception {
        var alpha = machine("alpha-1");
        var beta = machine("beta-1");
        var gateway = gateway(new RouteTable(Routes.builder(DOMAIN).route(route(WEB_ALPHA, alpha)).route(route(WEB_BETA, beta)).build()));

        for (int i = 0; i < 10; i++) {
            assertThat(get(gateway, "web.alpha." + DOMAIN, "/").body()).isEqualTo("alpha-1");
            assertThat(get(gateway, "web.beta." + DOMAIN, "/").body()).isEqualTo("beta-1");
        }
        assertThat(get(gateway, "web.gamma." + DOMAIN, "/").statusCode()).isEqualTo(404);
        assertThat(alpha.requests.get()).isEqualTo(10);
        assertThat(beta.requests.get()).isEqualTo(10);
    }

    @Test
    void aMachineKilledMidLoadCostsNoRequestAndIsEjected() throws Exception {
        var m1 = machine("m1");
        var m2 = machine("m2");
        var gateway = gateway(new RouteTable(Routes.builder(DOMAIN).route(route(WEB_ALPHA, m1, m2)).build()));

        var failures = new ConcurrentHashMap<String, Integer>();
        var served = new AtomicInteger();
        try (var load = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int worker = 0; worker < 8; worker++) {
                load.submit(() -> {
                    for (int i = 0; i < 100; i++) {
                        try {
                            var answer = get(gateway, "web.alpha." + DOMAIN, "/");
                            if (answer.statusCode() == 200) {
                                served.incrementAndGet();
                            } else {
                                failures.merge("status " + answer.statusCode() + " " + answer.body(), 1, Integer::sum);
                            }
                        } catch (Exception e) {
                            failures.merge(e.toString(), 1, Integer::sum);
                        }
                    }
                    return null;
                });
            }
            while (served.get() < 200) {
                Thread.sleep(5);
            }
            m1.close();
        }
        assertThat(failures).isEmpty();
        assertThat(served.get()).isEqualTo(800);
        assertThat(gateway.activity()).filteredOn(a -> a.machineId().equals("m1")).singleElement()
                .satisfies(a -> assertThat(a.ejected()).isTrue());
    }

    @Test
    void requestAndResponseBodiesStreamThrough() throws Exception {
        var m1 = machine("m1");
        var gateway = gateway(new RouteTable(Routes.builder(DOMAIN).route(route(WEB_ALPHA, m1)).build()));

        byte[] body = new byte[8 << 20];
        new Random(7).nextBytes(body);
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.httpPort() + "/echo"))
                .header("Host", "web.alpha." + DOMAIN)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body)))
                .build();
        var echoed = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
        assertThat(echoed.statusCode()).isEqualTo(200);
        assertThat(MessageDigest.getInstance("SHA-256").digest(echoed.body()))
                .isEqualTo(MessageDigest.getInstance("SHA-256").digest(body));

        var streamed = get(gateway, "web.alpha." + DOMAIN, "/stream");
        assertThat(streamed.body().lines()).hasSize(10).endsWith("chunk 9");
    }

    @Test
    void aWebSocketEchoesThroughTheGateway() throws Exception {
        var m1 = machine("m1");
        var table = new RouteTable(Routes.builder(DOMAIN).route(route(WEB_ALPHA, m1)).hostname("127.0.0.1", WEB_ALPHA).build());
        var gateway = gateway(table);

        var received = new java.util.concurrent.LinkedBlockingQueue<String>();
        WebSocket socket = client.newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + gateway.httpPort() + "/ws"), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        received.add(data.toString());
                        webSocket.request(1);
                        return null;
                    }
                })
                .get(20, TimeUnit.SECONDS);
        try {
            for (int i = 0; i < 3; i++) {
                socket.sendText("hello " + i, true).get(10, TimeUnit.SECONDS);
                assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo("echo hello " + i);
            }
            assertThat(gateway.activity()).singleElement().satisfies(a -> assertThat(a.outstanding()).isEqualTo(1));
        } finally {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aRequestForAStoppedFleetWithAutoStartWakesAMachineAndIsAnswered() throws Exception {
        var table = new RouteTable(Routes.builder(DOMAIN).route(Route.builder(WEB_ALPHA).autoStart(true).build()).build());
        var wakes = new AtomicInteger();
        Waker waker = (fleet, reason) -> {
            if (wakes.getAndIncrement() == 0) {
                Thread.ofVirtual().start(() -> {
                    try {
                        Thread.sleep(300); // a boot
                        var woken = machine("woken");
                        table.replace(Routes.builder(DOMAIN).route(Route.builder(WEB_ALPHA).autoStart(true).backend(woken.backend()).build()).build());
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
            }
            return true;
        };
        var gateway = gateway(table, Gateway.builder(table).waker(waker).wakeTimeout(Duration.ofSeconds(20)));

        var answer = get(gateway, "web.alpha." + DOMAIN, "/");
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.body()).isEqualTo("woken");
        assertThat(wakes.get()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aWokenMachineWhoseWorkloadDoesNotListenYetGetsTheHeldRequestOnceItDoes() throws Exception {
        var table = new RouteTable(Routes.builder(DOMAIN).route(Route.builder(WEB_ALPHA).autoStart(true).build()).build());
        int port;
        try (var probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        var listening = new java.util.concurrent.CountDownLatch(1);
        Waker waker = (fleet, reason) -> {
            Thread.ofVirtual().start(() -> {
                try {
                    // The machine runs (the routes list it) before its workload listens, as a booting VM does.
                    table.replace(Routes.builder(DOMAIN).route(Route.builder(WEB_ALPHA).autoStart(true)
                            .backend(new Backend("late", "127.0.0.1", port, true)).build()).build());
                    Thread.sleep(500);
                    var late = new TestMachine("late", "127.0.0.1", port);
                    open.add(late);
                    listening.countDown();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            return true;
        };
        var gateway = gateway(table, Gateway.builder(table).waker(waker).wakeTimeout(Duration.ofSeconds(20)));

        var answer = get(gateway, "web.alpha." + DOMAIN, "/");
        assertThat(listening.getCount()).isZero();
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(answer.body()).isEqualTo("late");
    }

    @Test
    void aWakerThatBringsTheMachineBeforeItReturnsIsNotWaitedForUntilTheDeadline() throws Exception {
        var table = new RouteTable(Routes.builder(DOMAIN).route(Route.builder(WEB_ALPHA).autoStart(true).build()).build());
        var ready = machine("ready");
        // The routes change inside wake(), before the request starts to wait for a change: it must see them.
        Waker atOnce = (fleet, reason) -> {
            table.replace(Routes.builder(DOMAIN).route(Route.builder(WEB_ALPHA).autoStart(true)
                    .backend(ready.backend()).build()).build());
            return true;
        };
        // A deadline past the client's timeout: a request that missed the change would time out, not get a 503.
        var gateway = gateway(table, Gateway.builder(table).waker(atOnce).wakeTimeout(Duration.ofMinutes(5)));

        var answer = get(gateway, "web.alpha." + DOMAIN, "/");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(answer.body()).isEqualTo("ready");
    }

    @Test
    void aWakeThatBringsNoMachineBeforeTheDeadlineIsA503() throws Exception {
        var table = new RouteTable(Routes.builder(DOMAIN).route(Route.builder(WEB_ALPHA).autoStart(true).build()).build());
        Waker promisesInVain = (fleet, reason) -> true;
        var gateway = gateway(table, Gateway.builder(table).waker(promisesInVain).wakeTimeout(Duration.ofMillis(300)));

        var answer = get(gateway, "web.alpha." + DOMAIN, "/");
        assertThat(answer.statusCode()).isEqualTo(503);
        assertThat(answer.body()).contains("no machine became healthy within");
    }

    @Test
    void aFleetWithNoMachineToWakeIsA503AtOnceNotHeld() throws Exception {
        var table = new RouteTable(Routes.builder(DOMAIN).route(Route.builder(WEB_ALPHA).autoStart(true).build()).build());
        // A wake deadline far beyond the client's own timeout: a held request would fail the test.
        var gateway = gateway(table, Gateway.builder(table).waker(Waker.NONE).wakeTimeout(Duration.ofMinutes(10)));

        var answer = get(gateway, "web.alpha." + DOMAIN, "/");
        assertThat(answer.statusCode()).isEqualTo(503);
        assertThat(answer.body()).contains("has no healthy machine");
    }

    @Test
    void aMachineAtItsHardLimitTakesNoMoreRequests() throws Exception {
        var m1 = machine("m1");
        var limited = Route.builder(WEB_ALPHA).backend(m1.backend()).concurrency(new Concurrency(1, 1)).build();
        var gateway = gateway(new RouteTable(Routes.builder(DOMAIN).route(limited).build()));

        CompletableFuture<HttpResponse<String>> first = client.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.httpPort() + "/hold")).header("Host", "web.alpha." + DOMAIN).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(m1.holding.await(20, TimeUnit.SECONDS)).isTrue();

        var refused = get(gateway, "web.alpha." + DOMAIN, "/");
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.body()).contains("hard limit of 1");

        m1.release();
        assertThat(first.get(20, TimeUnit.SECONDS).body()).isEqualTo("held m1");
        assertThat(get(gateway, "web.alpha." + DOMAIN, "/").statusCode()).isEqualTo(200);
    }

    @Test
    void forceHttpsRedirectsPlainRequests() throws Exception {
        var m1 = machine("m1");
        var dir = java.nio.file.Files.createTempDirectory("gateway-ca");
        try {
            var ca = DevelopmentCa.openOrCreate(dir);
            var forced = Route.builder(WEB_ALPHA).backend(m1.backend()).forceHttps(true).build();
            var table = new RouteTable(Routes.builder(DOMAIN).route(forced).build());
            var gateway = gateway(table, Gateway.builder(table)
                    .httpsListen(new java.net.InetSocketAddress("127.0.0.1", 0), List.of(ca.issueWildcard(DOMAIN))));

            var answer = get(gateway, "web.alpha." + DOMAIN, "/a?b=c");
            assertThat(answer.statusCode()).isEqualTo(301);
            assertThat(answer.headers().firstValue("Location"))
                    .contains("https://web.alpha." + DOMAIN + ":" + gateway.httpsPort().orElseThrow() + "/a?b=c");
        } finally {
            Tls.deleteTree(dir);
        }
    }
}
