package dev.bolero.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificates from a real ACME server: Debian's Pebble on free loopback ports, resolving every name to 127.0.0.1
 * through pebble-challtestsrv's DNS, so its HTTP-01 validation really fetches the challenge from the gateway. The
 * gateway then serves the issued certificate by SNI, checked against Pebble's root from its management endpoint.
 */
class AcmeIT {
    private static final Path PEBBLE = Path.of("/usr/bin/pebble");
    private static final Path CHALLTESTSRV = Path.of("/usr/bin/pebble-challtestsrv");
    private static final String HOST = "web.alpha.apps.test";
    /** A tenant's own name for the same fleet (a custom host name). */
    private static final String CUSTOM = "shop.example.org";

    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open.reversed()) c.close();
    }

    @Test
    void aHostWithARouteAndACustomHostnameGetCertificatesFromPebbleThatTheGatewayServesAndRenews() throws Exception {
        assumeTrue(Files.isExecutable(PEBBLE) && Files.isExecutable(CHALLTESTSRV),
                "needs Debian's pebble package (pebble and pebble-challtestsrv)");
        var machine = new TestMachine("m1");
        open.add(machine);
        var table = new RouteTable(Routes.builder("apps.test")
                .route(Route.builder(new FleetKey("alpha", "web")).backend(machine.backend()).build())
                .hostname(CUSTOM, new FleetKey("alpha", "web")).build());
        var challenges = new Http01Challenges();
        var gateway = Gateway.builder(table).challenges(challenges)
                .httpsListen(new InetSocketAddress("127.0.0.1", 0), List.of()).start();
        open.add(gateway);

        // Pebble's own HTTPS (its ACME and management listeners) under a certificate for localhost.
        var localCa = DevelopmentCa.openOrCreate(dir.resolve("local-ca"));
        var tls = localCa.issueWildcard("localhost");
        tls.writePem(dir.resolve("pebble.pem"), dir.resolve("pebble.key"));
        int acmePort = freePort();
        int managementPort = freePort();
        int dnsPort = freePort();
        Files.writeString(dir.resolve("pebble.json"), """
                {"pebble": {"listenAddress": "127.0.0.1:%d", "managementListenAddress": "127.0.0.1:%d",
                  "certificate": "%s", "privateKey": "%s", "httpPort": %d, "tlsPort": %d,
                  "ocspResponderURL": "", "externalAccountBindingRequired": false}}
                """.formatted(acmePort, managementPort, dir.resolve("pebble.pem"), dir.resolve("pebble.key"),
                gateway.httpPort(), freePort()));
        start("challtestsrv", List.of(CHALLTESTSRV.toString(), "-dns01", "127.0.0.1:" + dnsPort, "-http01", "",
                "-https01", "", "-tlsalpn01", "", "-management", "127.0.0.1:" + freePort(),
                "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""));
        start("pebble", List.of(PEBBLE.toString(), "-config", dir.resolve("pebble.json").toString(),
                "-dnsserver", "127.0.0.1:" + dnsPort));
        URI directory = URI.create("https://localhost:" + acmePort + "/dir");
        awaitListening(acmePort);

        var issuer = new AcmeIssuer(directory, Optional.of("ops@apps.test"),
                Optional.of(localCa.certificateFile()), dir.resolve("acme"), challenges);
        Path certs = dir.resolve("certs");
        // Renew when less than 10 years are left: every certificate Pebble issues is due at once, so each recheck
        // renews it.
        var keeper = CertificateKeeper.start(table, gateway, issuer, host -> {
            throw new IOException("no certificate was uploaded for " + host);
        }, certs, Duration.ofDays(3650), Duration.ofSeconds(1));
        open.add(keeper);

        X509Certificate root = pebbleRoot(managementPort, localCa.certificateFile());
        X509Certificate first = Tls.awaitServed(gateway.httpsPort().orElseThrow(), HOST, root, "m1", null);
        assertThat(first.getSubjectAlternativeNames()).anyMatch(n -> n.get(1).equals(HOST));
        X509Certificate custom = Tls.awaitServed(gateway.httpsPort().orElseThrow(), CUSTOM, root, "m1", null);
        assertThat(custom.getSubjectAlternativeNames()).as("issued through HTTP-01 on the gateway for the tenant's name")
                .anyMatch(n -> n.get(1).equals(CUSTOM));
        assertThat(Files.getPosixFilePermissions(certs.resolve(HOST + ".key")))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        assertThat(Files.getPosixFilePermissions(dir.resolve("acme/account.key")))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

        X509Certificate renewed = Tls.awaitServed(gateway.httpsPort().orElseThrow(), HOST, root, "m1",
                first.getSerialNumber());
        assertThat(renewed.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
    }

    private void start(String name, List<String> command) throws IOException {
        var process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile());
        process.environment().put("PEBBLE_VA_NOSLEEP", "1");
        process.environment().put("PEBBLE_WFE_NONCEREJECT", "0");
        Process started = process.start();
        open.add(() -> {
            started.destroy();
            if (!started.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) started.destroyForcibly().waitFor();
        });
    }

    /** Pebble's root for the issued chains, from its management endpoint. */
    private static X509Certificate pebbleRoot(int managementPort, Path localCa) throws Exception {
        var client = HttpClient.newBuilder().sslContext(Tls.trusting(List.of(read(Files.readAllBytes(localCa))))).build();
        try (client) {
            var response = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + managementPort
                    + "/roots/0")).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(response.statusCode()).isEqualTo(200);
            return read(response.body());
        }
    }

    private static X509Certificate read(byte[] pem) throws Exception {
        try (InputStream in = new ByteArrayInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private static int freePort() throws IOException {
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void awaitListening(int port) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            try {
                new Socket("127.0.0.1", port).close();
                return;
            } catch (IOException e) {
                assertThat(System.nanoTime()).as("pebble listens on %d within 20 s", port).isLessThan(deadline);
                Thread.sleep(100);
            }
        }
    }
}
