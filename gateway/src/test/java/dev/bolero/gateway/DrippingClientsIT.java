package dev.bolero.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.api.http.ClientLimits;
import dev.bolero.api.testing.DrippingClients;
import dev.bolero.api.testing.DrippingClients.Footprint;
import dev.bolero.api.testing.DrippingClients.Part;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway's public listener against clients that drip a byte every 2 s into their headers or into a body it is
 * forwarding to a machine: the default {@link ClientLimits} close them while other clients are answered, and the
 * machine's request slots they held are given back; one client address holds at most its cap of connections.
 */
class DrippingClientsIT {
    static {
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
    }

    private static final String DOMAIN = "example.test";
    private static final FleetKey WEB = new FleetKey("alpha", "web");
    private static final String HOST = "web.alpha." + DOMAIN;
    private static final int DRIPPERS = 100;

    private final List<AutoCloseable> open = new ArrayList<>();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @AfterEach
    void closeAll() throws Exception {
        client.close();
        for (AutoCloseable c : open.reversed()) c.close();
    }

    private Gateway gateway(ClientLimits limits) throws Exception {
        return gateway(limits, false);
    }

    private Gateway gateway(ClientLimits limits, boolean https) throws Exception {
        var machine = new TestMachine("m1");
        open.add(machine);
        // Room for every dripper and the honest clients besides, so that only the limits decide.
        var route = Route.builder(WEB).backend(machine.backend()).concurrency(new Concurrency(500, 500)).build();
        var table = new RouteTable(Routes.builder(DOMAIN).route(route).build());
        var builder = Gateway.builder(table).clientLimits(limits);
        if (https) builder.httpsListen(new InetSocketAddress("127.0.0.1", 0), List.of());
        var gateway = builder.start();
        open.add(gateway);
        return gateway;
    }

    private int get(Gateway gateway) throws Exception {
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.httpPort() + "/"))
                .header("Host", HOST).timeout(Duration.ofSeconds(20)).build();
        return client.send(request, HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    @Test
    void clientsDrippingHeadersOrBodiesAreClosedAndGiveBackTheMachinesSlotsWhileOthersAreAnswered() throws Exception {
        var gateway = gateway(ClientLimits.DEFAULT);
        var target = new InetSocketAddress(InetAddress.getLoopbackAddress(), gateway.httpPort());
        Footprint before = Footprint.now();
        try (var drippers = DrippingClients.start(InetAddress.getLoopbackAddress(), target, DRIPPERS, "/", DRIPPERS,
                "POST /echo HTTP/1.1\r\nHost: " + HOST + "\r\n", Duration.ofSeconds(2))) {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(outstanding(gateway))
                    .as("body drippers holding the machine's slots").isPositive());
            int heldSlots = outstanding(gateway);
            Footprint during = Footprint.now();
            long poolDuring = gatewayThreads();
            for (int i = 0; i < 20; i++) assertThat(get(gateway)).as("another client").isEqualTo(200);
            double bodiesClosed = drippers.awaitClosed(Part.BODY);
            double headersClosed = drippers.awaitClosed(Part.HEADERS);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(outstanding(gateway))
                    .as("the machine's slots once the drippers are gone").isZero());
            Footprint after = Footprint.now();
            System.out.printf("DRIPPING gateway: %d header and %d body drippers (a byte every 2 s); %d machine slots "
                            + "held by them at most; bodies all closed after %.1f s, headers after %.1f s; 20 other "
                            + "requests answered meanwhile; slots given back; JVM before %s, during %s, after %s; the gateway's "
                            + "threads %d during (%d event loops)%n",
                    DRIPPERS, DRIPPERS, heldSlots, bodiesClosed, headersClosed, before, during, after, poolDuring,
                    gateway.eventLoops());
        }
    }

    @Test
    void clientsDrippingTheirTlsHandshakeAreClosedAtTheHeaderDeadlineWhileOthersAreAnswered() throws Exception {
        var gateway = gateway(ClientLimits.DEFAULT, true);
        var target = new InetSocketAddress(InetAddress.getLoopbackAddress(), gateway.httpsPort().orElseThrow());
        try (var drippers = DrippingClients.handshakes(InetAddress.getLoopbackAddress(), target, DRIPPERS,
                Duration.ofSeconds(2))) {
            for (int i = 0; i < 20; i++) assertThat(get(gateway)).as("another client").isEqualTo(200);
            double closed = drippers.awaitClosed(Part.HANDSHAKE);
            System.out.printf("DRIPPING gateway TLS: %d handshake drippers (a byte every 2 s) all closed after %.1f s "
                    + "(deadline %d s)%n", DRIPPERS, closed, ClientLimits.DEFAULT.headerTimeout().toSeconds());
        }
    }

    @Test
    void oneClientAddressHoldsNoMoreThanItsCapOfConnections() throws Exception {
        var defaults = ClientLimits.DEFAULT;
        var gateway = gateway(new ClientLimits(defaults.headerTimeout(), defaults.minBodyRate(), 20,
                defaults.maxConnections()));
        var target = new InetSocketAddress(InetAddress.getLoopbackAddress(), gateway.httpPort());
        InetAddress hostile = InetAddress.getByName("127.0.0.2");
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 30; i++) sockets.add(DrippingClients.connect(hostile, target));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(sockets.stream().filter(DrippingClients::closedByServer).count())
                            .as("connections from 127.0.0.2 past its 20, closed at once").isEqualTo(10));
            assertThat(get(gateway)).as("a client from 127.0.0.1").isEqualTo(200);
            System.out.println("CONNECTION CAP gateway: 30 connections from 127.0.0.2 at a cap of 20: 20 held, 10 "
                    + "closed at once; 127.0.0.1 answered");
        } finally {
            for (Socket s : sockets) s.close();
        }
    }

    /** The threads of the gateway's own pool (named {@code gateway-…}). */
    private static long gatewayThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("gateway")).count();
    }

    private static int outstanding(Gateway gateway) {
        return gateway.activity().stream().mapToInt(BackendActivity::outstanding).sum();
    }
}
