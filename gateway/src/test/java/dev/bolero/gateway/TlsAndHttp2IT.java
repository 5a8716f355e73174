package dev.bolero.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * TLS with SNI and HTTP/2 (ALPN and h2c) through the gateway, checked by curl as a child process against the
 * development CA's certificate.
 */
class TlsAndHttp2IT {
    private static final String DOMAIN = "example.test";
    private static final FleetKey WEB_ALPHA = new FleetKey("alpha", "web");

    private Path dir;
    private TestMachine machine;
    private Gateway gateway;
    private DevelopmentCa ca;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/curl")), "needs curl (apt-get install curl)");
        dir = Files.createTempDirectory("gateway-tls");
        ca = DevelopmentCa.openOrCreate(dir.resolve("ca"));
        machine = new TestMachine("m1");
        var routes = Routes.builder(DOMAIN)
                .route(Route.builder(WEB_ALPHA).backend(machine.backend()).build())
                .hostname("www.alpha.org", WEB_ALPHA)
                .build();
        gateway = Gateway.builder(new RouteTable(routes))
                .httpsListen(new InetSocketAddress("127.0.0.1", 0), List.of(ca.issueWildcard("alpha." + DOMAIN), ca.issueWildcard("alpha.org")))
                .start();
    }

    @AfterEach
    void stop() throws Exception {
        try {
            if (gateway != null) {
                gateway.close();
            }
            if (machine != null) {
                machine.close();
            }
        } finally {
            if (dir != null) {
                Tls.deleteTree(dir);
            }
        }
    }

    @Test
    void eachHostNameGetsItsOwnCertificateByTheClientsSniAndHttp2ByAlpn() throws Exception {
        int port = gateway.httpsPort().orElseThrow();
        for (String host : List.of("web.alpha." + DOMAIN, "www.alpha.org")) {
            String expectedSubject = host.endsWith(DOMAIN) ? "CN=*.alpha." + DOMAIN : "CN=*.alpha.org";
            var answer = curl("--cacert", ca.certificateFile().toString(), "--resolve", host + ":" + port + ":127.0.0.1",
                    "-v", "-w", "\n%{http_version} %{ssl_verify_result} %{http_code}", "https://" + host + ":" + port + "/");
            assertThat(answer.out()).isEqualTo("m1\n2 0 200");
            assertThat(answer.err()).contains("subject: " + expectedSubject).contains("ALPN: server accepted h2");
        }
        var http11 = curl("--http1.1", "--cacert", ca.certificateFile().toString(), "--resolve", "web.alpha." + DOMAIN + ":" + port + ":127.0.0.1",
                "-H", "X-Request-Id: tls-1", "-D", "-", "-w", "\n%{http_version}", "https://web.alpha." + DOMAIN + ":" + port + "/");
        assertThat(http11.out()).contains("Seen-X-Forwarded-Proto: https").contains("\nX-Request-Id: tls-1").endsWith("m1\n1.1");
    }

    @Test
    void plainHttp2WithPriorKnowledgeAndByUpgradePassesThrough() throws Exception {
        String url = "http://127.0.0.1:" + gateway.httpPort() + "/";
        String host = "Host: web.alpha." + DOMAIN;
        assertThat(curl("--http2-prior-knowledge", "-H", host, "-w", "\n%{http_version}", url).out()).isEqualTo("m1\n2");
        assertThat(curl("--http2", "-H", host, "-w", "\n%{http_version}", url).out()).isEqualTo("m1\n2");
        // An upgrade request with a body stays HTTP/1.1 (switching would mean holding its whole body first).
        assertThat(curl("--http2", "-H", host, "--data-binary", "posted", "-w", "\n%{http_version}", url + "echo").out())
                .isEqualTo("posted\n1.1");
        assertThat(curl("--http2-prior-knowledge", "-H", host, "--data-binary", "posted", "-w", "\n%{http_version}",
                url + "echo").out()).isEqualTo("posted\n2");
    }

    @Test
    void theDevelopmentCasFilesAreReadableByTheirOwnerOnly() throws Exception {
        try (var files = Files.list(dir.resolve("ca"))) {
            for (Path file : files.toList()) {
                assertThat(Files.getPosixFilePermissions(file)).as(file.toString())
                        .isEqualTo(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
            }
        }
        assertThat(DevelopmentCa.openOrCreate(dir.resolve("ca")).certificateFile()).hasSameTextualContentAs(ca.certificateFile());
    }

    private record Result(String out, String err) {}

    private static Result curl(String... args) throws Exception {
        var command = new ArrayList<String>(List.of("curl", "-sS", "--max-time", "20"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).start();
        try {
            var out = process.getInputStream().readAllBytes();
            var err = process.getErrorStream().readAllBytes();
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
            String stderr = new String(err, StandardCharsets.UTF_8);
            assertThat(process.exitValue()).as(stderr).isZero();
            return new Result(new String(out, StandardCharsets.UTF_8).replace("\r", ""), stderr);
        } finally {
            process.destroyForcibly();
        }
    }
}
