package dev.bolero.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.tls.Pem;
import dev.bolero.api.wire.CertificateUpload;
import dev.bolero.api.wire.CreateClusterMachine;
import dev.bolero.api.wire.HostnameSpec;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.client.BoleroClient;
import dev.bolero.client.ClientException;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.server.FakeAgent;
import dev.bolero.server.Server;
import dev.bolero.server.ServerConfig;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.security.cert.X509Certificate;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway following a real control plane (SQLite) whose node is a {@link FakeAgent}: the machines it reports
 * running are real HTTP servers on loopback addresses (127.0.0.2, …) standing for their private addresses.
 */
class ClusterGatewayIT {
    static {
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
    }

    private static final String ADMIN = "admin-token-cluster-gateway-it-0123456789";
    private static final String JOIN = "join-token-cluster-gateway-it-0123456789";
    private static final String DOMAIN = "apps.test";

    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();
    /** Each machine's loopback address, by id, as the fake node reports them. */
    private final Map<String, String> addresses = new ConcurrentHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private Server server;
    private BoleroClient admin;
    private FakeAgent node;
    private ClusterGateway gateway;

    @BeforeEach
    void start() throws Exception {
        server = startServer(0);
        admin = new BoleroClient(URI.create("http://127.0.0.1:" + server.port()), ADMIN);
        node = FakeAgent.join(server.port(), JOIN, "node-1").reportAddresses(addresses::get).live();
        admin.createNamespace("alpha");
        admin.createNamespace("beta");
        gateway = ClusterGateway.start(admin, DOMAIN, builder -> builder);
    }

    private Server startServer(int port) {
        return Server.start(ServerConfig.of("127.0.0.1", port, dir.resolve("server"))
                .withTokens(Optional.of(ADMIN), Optional.of(JOIN)));
    }

    @AfterEach
    void stop() throws Exception {
        http.close();
        if (gateway != null) gateway.close();
        if (node != null) node.close();
        if (server != null) server.close();
        for (AutoCloseable c : open.reversed()) c.close();
    }

    @Test
    void machinesThatStartAndStopReachTheGatewayAndItKeepsServingWhileTheServerIsDown() throws Exception {
        int port = freePort("127.0.0.2");
        admin.createFleet("alpha", new FleetSpec("web", null, null, Map.of(),
                MachineSpec.builder("registry.test/web:1").httpService(MachineSpec.HttpService.on(port)).overlay()));
        String m1 = machine("alpha", "web", "m1", true, "127.0.0.2", port);
        String m2 = machine("alpha", "web", "m2", true, "127.0.0.3", port);

        await("both machines serve web.alpha", () -> answering("web.alpha." + DOMAIN, 20).equals(Set.of(m1, m2)));

        long asked = System.nanoTime();
        admin.stop("alpha", m1, null);
        await("m1 leaves the routes", () -> gateway.feed().latest().fleets().getFirst().machines().stream()
                .noneMatch(m -> m.id().equals(m1) && m.serving()));
        System.out.printf("route change reached the gateway %d ms after the stop request%n",
                (System.nanoTime() - asked) / 1_000_000);
        assertThat(answering("web.alpha." + DOMAIN, 20)).containsExactly(m2);

        // Another namespace's fleet of the same name is another host, and answers nothing of alpha's.
        admin.createFleet("beta", new FleetSpec("web", null, null, Map.of(),
                MachineSpec.builder("registry.test/web:1").httpService(MachineSpec.HttpService.on(port)).overlay()));
        await("beta's fleet is in the routes", () -> gateway.feed().latest().fleets().size() == 2);
        assertThat(get("web.beta." + DOMAIN).statusCode()).isNotEqualTo(200);

        int serverPort = server.port();
        node.silence();
        server.close();
        server = null;
        assertThat(answering("web.alpha." + DOMAIN, 10)).as("the last routes, with the server down").containsExactly(m2);

        server = startServer(serverPort);
        node.live();
        admin.start("alpha", m1);
        await("m1 is back after the server's restart",
                () -> answering("web.alpha." + DOMAIN, 20).equals(Set.of(m1, m2)));
    }

    @Test
    void aRequestForAStoppedFleetStartsAMachineAndAnIdleOneIsStopped() throws Exception {
        int port = freePort("127.0.0.4");
        var service = new MachineSpec.HttpService(port, null, MachineSpec.HttpService.AutoStop.STOP, true, 0, 2, null);
        admin.createFleet("alpha", new FleetSpec("lazy", null, null, Map.of(),
                MachineSpec.builder("registry.test/lazy:1").httpService(service).overlay()));
        String m1 = machine("alpha", "lazy", "m1", false, "127.0.0.4", port);
        await("the fleet is in the routes", () -> gateway.routes().resolve("lazy.alpha." + DOMAIN).isPresent());

        long asked = System.nanoTime();
        var first = get("lazy.alpha." + DOMAIN);
        System.out.printf("wake on request: stopped to first response in %d ms%n",
                (System.nanoTime() - asked) / 1_000_000);
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.body()).isEqualTo(m1);

        await("the idle machine is stopped", () -> admin.machine("alpha", m1).desiredState() == MachineState.STOPPED);
        await("and reported stopped", () -> admin.machine("alpha", m1).state() == MachineState.STOPPED);
        assertThat(get("lazy.alpha." + DOMAIN).body()).as("woken again").isEqualTo(m1);
    }

    @Test
    void withAutoStopSuspendAnIdleMachineIsSuspendedAndTheNextRequestResumesIt() throws Exception {
        int port = freePort("127.0.0.6");
        var service = new MachineSpec.HttpService(port, null, MachineSpec.HttpService.AutoStop.SUSPEND, true, 0, 2,
                null);
        admin.createFleet("alpha", new FleetSpec("nap", null, null, Map.of(),
                MachineSpec.builder("registry.test/nap:1").httpService(service).overlay()));
        String m1 = machine("alpha", "nap", "m1", true, "127.0.0.6", port);
        await("the fleet is routed", () -> get("nap.alpha." + DOMAIN).statusCode() == 200);

        await("the idle machine is suspended", () -> admin.machine("alpha", m1).desiredState() == MachineState.SUSPENDED);
        await("and reported suspended", () -> admin.machine("alpha", m1).state() == MachineState.SUSPENDED);
        var woken = get("nap.alpha." + DOMAIN);
        assertThat(woken.statusCode()).isEqualTo(200);
        assertThat(woken.body()).as("resumed by the request").isEqualTo(m1);
        assertThat(admin.machine("alpha", m1).desiredState()).isEqualTo(MachineState.RUNNING);
    }

    @Test
    void aCustomHostnameRoutesToItsFleetAndIsServedItsTenantsUploadedCertificateBySni() throws Exception {
        int port = freePort("127.0.0.5");
        for (String ns : List.of("alpha", "beta")) {
            admin.createFleet(ns, new FleetSpec("shop", null, null, Map.of(), MachineSpec.builder("registry.test/shop:1")
                    .httpService(MachineSpec.HttpService.on(port)).overlay()));
        }
        String m1 = machine("alpha", "shop", "m1", true, "127.0.0.5", port);
        var tenantCa = DevelopmentCa.openOrCreate(dir.resolve("tenant-ca"));
        CertifiedKey uploaded = tenantCa.issueWildcard("alpha-shop.test");
        String host = "www.alpha-shop.test";
        admin.attachHostname("alpha", "shop", new HostnameSpec(host, Pem.encode(uploaded.chain()),
                Pem.encode(uploaded.key())));
        var theft = assertThatThrownBy(() -> admin.attachHostname("beta", "shop", new HostnameSpec(host, null, null)));
        theft.isInstanceOf(ClientException.class).hasMessageContaining("another namespace has claimed it");

        var https = ClusterGateway.start(admin, DOMAIN,
                builder -> builder.httpsListen(new InetSocketAddress("127.0.0.1", 0), List.of()));
        open.add(https);
        https.keepCertificates(DevelopmentCa.openOrCreate(dir.resolve("gateway-ca")), dir.resolve("certs"),
                Duration.ofDays(30));
        await("the custom host routes over HTTP", () -> get(host).statusCode() == 200);
        assertThat(get(host).body()).isEqualTo(m1);

        int httpsPort = https.gateway().httpsPort().orElseThrow();
        X509Certificate tenantRoot = CertifiedKey.readPem(tenantCa.certificateFile(), dir.resolve("tenant-ca/ca.key"))
                .leaf();
        X509Certificate served = Tls.awaitServed(httpsPort, host, tenantRoot, m1, null);
        assertThat(served.getSerialNumber()).isEqualTo(uploaded.leaf().getSerialNumber());
        X509Certificate gatewayRoot = CertifiedKey.readPem(dir.resolve("gateway-ca/ca.pem"),
                dir.resolve("gateway-ca/ca.key")).leaf();
        assertThat(Tls.awaitServed(httpsPort, "shop.alpha." + DOMAIN, gatewayRoot, m1, null))
                .as("the fleet's own name keeps the gateway's certificate").isNotNull();
        // A name without an upload gets the gateway's: another *.alpha-shop.test wildcard, each served for its own name.
        admin.attachHostname("alpha", "shop", new HostnameSpec("api.alpha-shop.test", null, null));
        assertThat(Tls.awaitServed(httpsPort, "api.alpha-shop.test", gatewayRoot, m1, null)).isNotNull();
        assertThat(Tls.awaitServed(httpsPort, host, tenantRoot, m1, null).getSerialNumber())
                .isEqualTo(uploaded.leaf().getSerialNumber());

        CertifiedKey renewed = tenantCa.issueWildcard("alpha-shop.test");
        long asked = System.nanoTime();
        admin.uploadCertificate("alpha", "shop", host, new CertificateUpload(Pem.encode(renewed.chain()),
                Pem.encode(renewed.key())));
        assertThat(Tls.awaitServed(httpsPort, host, tenantRoot, m1, uploaded.leaf().getSerialNumber())
                .getSerialNumber()).as("a replaced upload is served").isEqualTo(renewed.leaf().getSerialNumber());
        System.out.printf("a replaced certificate upload was served %d ms after the request%n",
                (System.nanoTime() - asked) / 1_000_000);

        admin.detachHostname("alpha", "shop", host);
        await("a detached name routes nowhere", () -> get(host).statusCode() != 200);
    }

    @Test
    void aRequestForAFleetWhoseMachinesAreSuspendedOrStoppedResumesASuspendedOne() throws Exception {
        int port = freePort("127.0.0.5");
        var service = new MachineSpec.HttpService(port, null, null, true, 0, null, null);
        admin.createFleet("alpha", new FleetSpec("napper", null, null, Map.of(),
                MachineSpec.builder("registry.test/napper:1").httpService(service).overlay()));
        String stopped = machine("alpha", "napper", "m1", false, "127.0.0.5", port);
        String suspended = machine("alpha", "napper", "m2", true, "127.0.0.6", port);
        await("m2 serves", () -> routed("napper").stream().anyMatch(m -> m.id().equals(suspended) && m.serving()));
        admin.suspend("alpha", suspended);
        await("m2 is reported suspended", () -> admin.machine("alpha", suspended).state() == MachineState.SUSPENDED);
        await("and the gateway knows", () -> routed("napper").stream().anyMatch(m -> m.id().equals(suspended)
                && m.desiredState() == MachineState.SUSPENDED && !m.serving()));

        var woken = get("napper.alpha." + DOMAIN);
        assertThat(woken.statusCode()).isEqualTo(200);
        assertThat(woken.body()).as("the suspended machine, not the stopped one").isEqualTo(suspended);
        assertThat(admin.machine("alpha", stopped).desiredState()).isEqualTo(MachineState.STOPPED);
    }

    /** The machines of alpha's fleet {@code fleet} in the gateway's latest routes (none while it is absent). */
    private List<dev.bolero.api.wire.GatewayRoutes.RouteMachine> routed(String fleet) {
        return gateway.feed().latest().fleets().stream()
                .filter(f -> f.namespace().equals("alpha") && f.fleet().equals(fleet)).findFirst()
                .map(dev.bolero.api.wire.GatewayRoutes.FleetRoute::machines).orElse(List.of());
    }

    /** Creates a machine in the fleet and its stand-in on {@code host:port}; its id. */
    private String machine(String namespace, String fleet, String name, boolean start, String host, int port)
            throws Exception {
        String id = admin.createMachine(namespace, fleet, new CreateClusterMachine(name, start, null, null, null)).id();
        open.add(new TestMachine(id, host, port));
        addresses.put(id, host);
        return id;
    }

    /** The machines that answered {@code count} requests for {@code host}. */
    private Set<String> answering(String host, int count) throws Exception {
        var seen = new HashSet<String>();
        for (int i = 0; i < count; i++) {
            var response = get(host);
            if (response.statusCode() != 200) return Set.of();
            seen.add(response.body());
        }
        return seen;
    }

    private HttpResponse<String> get(String host) throws Exception {
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.gateway().httpPort() + "/"))
                .header("Host", host).timeout(Duration.ofSeconds(40)).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static int freePort(String host) throws Exception {
        try (var socket = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return socket.getLocalPort();
        }
    }

    /** A condition a test waits for. */
    @FunctionalInterface
    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void await(String what, Condition condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.holds()) {
            assertThat(System.nanoTime()).as("%s within 30 s", what).isLessThan(deadline);
            Thread.sleep(100);
        }
    }
}
