package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.api.tls.Certificates;
import dev.bolero.api.tls.Pem;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Custom host names through a real server (SQLite): claimed by one namespace across the cluster, validated, carried by
 * the gateways' route feed, and an uploaded certificate's key never in an answer but the gateways', nor in clear in the
 * database.
 */
class HostnamesApiTest {
    private static final String ADMIN = ClusterSuite.ADMIN;

    @TempDir
    static Path dataDir;
    static Server server;
    static Http http;
    static String alphaToken;
    static String betaToken;

    @BeforeAll
    static void start() {
        server = Server.start(ClusterSuite.config(dataDir, Optional.empty()));
        http = new Http(server.port());
        for (String ns : List.of("alpha", "beta")) {
            assertThat(http.post("/v1/namespaces", ADMIN, Map.of("name", ns)).status()).isEqualTo(201);
            for (String fleet : List.of("web", "api")) {
                var created = http.post("/v1/namespaces/" + ns + "/fleets", ADMIN, Map.of("name", fleet, "config",
                        Map.of("image", "registry.test/web:1", "http_service", Map.of("internal_port", 8080))));
                assertThat(created.status()).as("%s", created).isEqualTo(201);
            }
        }
        alphaToken = http.post("/v1/namespaces/alpha/tokens", ADMIN, null).json().path("token").asString();
        betaToken = http.post("/v1/namespaces/beta/tokens", ADMIN, null).json().path("token").asString();
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    private static String hostnames(String ns, String fleet) {
        return "/v1/namespaces/" + ns + "/fleets/" + fleet + "/hostnames";
    }

    @Test
    void aNameIsClaimedByOneNamespaceAcrossTheClusterUntilItIsDetached() {
        var claimed = http.post(hostnames("alpha", "web"), alphaToken, Map.of("hostname", "Shop.Example.ORG."));
        assertThat(claimed.status()).as("%s", claimed).isEqualTo(201);
        assertThat(claimed.json().path("hostname").asString()).as("one form").isEqualTo("shop.example.org");
        assertThat(claimed.json().path("source").asString()).isEqualTo("acme");

        var theft = http.post(hostnames("beta", "web"), betaToken, Map.of("hostname", "shop.example.org"));
        assertThat(theft.status()).isEqualTo(409);
        assertThat(theft.errorMessage()).isEqualTo("attach hostname shop.example.org to fleet beta/web: another "
                + "namespace has claimed it");
        var twice = http.post(hostnames("alpha", "api"), alphaToken, Map.of("hostname", "shop.example.org"));
        assertThat(twice.status()).isEqualTo(409);
        assertThat(twice.errorMessage()).endsWith("it is attached to fleet web already");
        assertThat(http.get(hostnames("beta", "web") + "/shop.example.org", betaToken).status())
                .as("another namespace's name is not found").isEqualTo(404);
        assertThat(http.delete(hostnames("beta", "web") + "/shop.example.org", betaToken).status()).isEqualTo(404);
        assertThat(http.get(hostnames("alpha", "web"), betaToken).status()).isEqualTo(404);

        assertThat(http.delete(hostnames("alpha", "web") + "/shop.example.org", alphaToken).status()).isEqualTo(204);
        assertThat(http.post(hostnames("beta", "web"), betaToken, Map.of("hostname", "shop.example.org")).status())
                .as("free again").isEqualTo(201);
        assertThat(http.get(hostnames("beta", "web"), betaToken).json()).hasSize(1);
        assertThat(http.delete(hostnames("beta", "web") + "/shop.example.org", betaToken).status()).isEqualTo(204);
    }

    @Test
    void badNamesAndCertificatesAreRefusedSayingWhy() throws Exception {
        String web = hostnames("alpha", "web");
        assertThat(http.post(web, alphaToken, Map.of("hostname", "*.example.org")).errorMessage())
                .contains("hostname wildcard host names are not supported: attach each name");
        assertThat(http.post(web, alphaToken, Map.of("hostname", "localhost")).errorMessage())
                .contains("hostname must have at least two labels");
        assertThat(http.post(web, alphaToken, Map.of("hostname", "bad_name.example.org")).errorMessage())
                .contains("hostname must be DNS labels of 1-63 letters, digits or '-'");
        assertThat(http.post(web, alphaToken, Map.of("hostname", "-a.example.org")).status()).isEqualTo(400);
        assertThat(http.post(web, alphaToken, Map.of("hostname", "10.0.0.1")).errorMessage())
                .contains("hostname must be a DNS name, not an address");
        assertThat(http.post(web, alphaToken, Map.of("hostname", "a".repeat(64) + ".example.org")).status())
                .isEqualTo(400);
        assertThat(http.post(web, alphaToken, Map.of("hostname", "x.example.org", "certificate", "PEM")).errorMessage())
                .contains("private_key is required with certificate");
        assertThat(http.post(hostnames("alpha", "nope"), alphaToken, Map.of("hostname", "x.example.org")).status())
                .isEqualTo(404);

        var good = TestCertificate.of("x.example.org", Duration.ofDays(30));
        var other = TestCertificate.of("x.example.org", Duration.ofDays(30));
        assertThat(attach(web, "x.example.org", "not pem", good.keyPem()).errorMessage())
                .contains("certificate: no PEM certificate");
        assertThat(attach(web, "y.example.org", good.chainPem(), good.keyPem()).errorMessage())
                .contains("certificate its leaf names [x.example.org], not y.example.org");
        assertThat(attach(web, "x.example.org", good.chainPem(), other.keyPem()).errorMessage())
                .contains("private_key is not the key of the certificate's leaf");
        var expired = TestCertificate.of("x.example.org", Duration.ofDays(-1));
        assertThat(attach(web, "x.example.org", expired.chainPem(), expired.keyPem()).errorMessage())
                .contains("certificate expired at");
        assertThat(http.get(web, alphaToken).json()).as("nothing was claimed by a refused call").isEmpty();
    }

    @Test
    void anUploadedKeyIsNeverShownButToTheGatewaysNorStoredInClear() throws Exception {
        var first = TestCertificate.of("www.alpha-shop.test", Duration.ofDays(60));
        String api = hostnames("alpha", "api");
        var attached = attach(api, "www.alpha-shop.test", first.chainPem(), first.keyPem());
        assertThat(attached.status()).as("%s", attached).isEqualTo(201);
        assertThat(attached.json().path("source").asString()).isEqualTo("uploaded");
        assertThat(attached.json().path("certificate").path("fingerprint").asString())
                .isEqualTo(Certificates.fingerprint(first.leaf()));
        assertThat(attached.json().path("certificate").path("dns_names").get(0).asString())
                .isEqualTo("www.alpha-shop.test");
        var listed = http.get(api, alphaToken);
        var one = http.get(api + "/www.alpha-shop.test", alphaToken);
        for (var answer : List.of(attached, listed, one)) {
            assertThat(answer.body()).doesNotContain(first.keyMarker()).doesNotContain("PRIVATE KEY");
        }

        var routes = http.get("/v1/gateway/routes", ADMIN).json();
        var fleet = stream(routes.path("fleets")).filter(f -> f.path("namespace").asString().equals("alpha")
                && f.path("fleet").asString().equals("api")).findFirst().orElseThrow();
        assertThat(fleet.path("hostnames").get(0).path("name").asString()).isEqualTo("www.alpha-shop.test");
        assertThat(fleet.path("hostnames").get(0).path("certificate").asString())
                .isEqualTo(Certificates.fingerprint(first.leaf()));
        assertThat(routes.toString()).doesNotContain(first.keyMarker());

        String gateway = "/v1/gateway/certificates/www.alpha-shop.test";
        assertThat(http.get(gateway, alphaToken).status()).as("only the gateways' admin token").isEqualTo(403);
        var fetched = http.get(gateway, ADMIN);
        assertThat(fetched.status()).as("%s", fetched).isEqualTo(200);
        assertThat(Pem.privateKey("key", fetched.json().path("private_key").asString()).getEncoded())
                .isEqualTo(first.pair().getPrivate().getEncoded());

        var second = TestCertificate.of("www.alpha-shop.test", Duration.ofDays(90));
        var replaced = http.put(api + "/www.alpha-shop.test/certificate", alphaToken,
                Map.of("certificate", second.chainPem(), "private_key", second.keyPem()));
        assertThat(replaced.status()).as("%s", replaced).isEqualTo(200);
        assertThat(replaced.json().path("certificate").path("version").asLong()).isEqualTo(2);
        assertThat(replaced.body()).doesNotContain(second.keyMarker());
        assertThat(Pem.privateKey("key", http.get(gateway, ADMIN).json().path("private_key").asString())
                .getEncoded()).isEqualTo(second.pair().getPrivate().getEncoded());

        server.close(); // the WAL as it is left, as a thief would find it
        server = Server.start(ClusterSuite.config(dataDir, Optional.empty()));
        http = new Http(server.port());
        try (Stream<Path> files = Files.list(dataDir)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                String bytes = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
                assertThat(bytes).as("%s", file.getFileName()).doesNotContain(first.keyMarker(), second.keyMarker());
            }
        }
        assertThat(http.get(gateway, ADMIN).json().path("fingerprint").asString())
                .as("opened after a restart").isEqualTo(Certificates.fingerprint(second.leaf()));
        assertThat(http.delete(api + "/www.alpha-shop.test", alphaToken).status()).isEqualTo(204);
        assertThat(http.get(gateway, ADMIN).status()).as("gone with its name").isEqualTo(404);
    }

    @Test
    void onPostgresqlANameIsClaimedOnceItsKeyOpensForTheGatewaysAndItGoesWithItsFleet() throws Exception {
        String why = PostgresCluster.unavailable();
        assumeTrue(why == null, why);
        try (var postgres = new PostgresCluster();
             var pgServer = Server.start(ClusterSuite.config(dataDir.resolve("pg"),
                     Optional.of(postgres.newDatabase())))) {
            var pg = new Http(pgServer.port());
            for (String ns : List.of("alpha", "beta")) {
                assertThat(pg.post("/v1/namespaces", ADMIN, Map.of("name", ns)).status()).isEqualTo(201);
                assertThat(pg.post("/v1/namespaces/" + ns + "/fleets", ADMIN, Map.of("name", "web")).status())
                        .isEqualTo(201);
            }
            var certificate = TestCertificate.of("pg.example.org", Duration.ofDays(30));
            var body = new LinkedHashMap<String, Object>();
            body.put("hostname", "pg.example.org");
            body.put("certificate", certificate.chainPem());
            body.put("private_key", certificate.keyPem());
            var attached = pg.post(hostnames("alpha", "web"), ADMIN, body);
            assertThat(attached.status()).as("%s", attached).isEqualTo(201);
            assertThat(pg.post(hostnames("beta", "web"), ADMIN, Map.of("hostname", "pg.example.org")).status())
                    .isEqualTo(409);
            var fetched = pg.get("/v1/gateway/certificates/pg.example.org", ADMIN);
            assertThat(Pem.privateKey("key", fetched.json().path("private_key").asString()).getEncoded())
                    .isEqualTo(certificate.pair().getPrivate().getEncoded());

            assertThat(pg.delete("/v1/namespaces/alpha/fleets/web", ADMIN).status()).isEqualTo(204);
            assertThat(pg.post(hostnames("beta", "web"), ADMIN, Map.of("hostname", "pg.example.org")).status())
                    .as("released with its fleet").isEqualTo(201);
        }
    }

    private static Http.Response attach(String path, String hostname, String chain, String key) {
        var body = new LinkedHashMap<String, Object>();
        body.put("hostname", hostname);
        body.put("certificate", chain);
        body.put("private_key", key);
        return http.post(path, alphaToken, body);
    }

    private static Stream<tools.jackson.databind.JsonNode> stream(tools.jackson.databind.JsonNode array) {
        return java.util.stream.StreamSupport.stream(array.spliterator(), false);
    }

    /** A self-signed P-256 certificate for one name, valid from an hour ago for {@code lifetime} (negative: expired). */
    record TestCertificate(X509Certificate leaf, KeyPair pair) {
        static TestCertificate of(String host, Duration lifetime) throws Exception {
            var generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = generator.generateKeyPair();
            Instant now = Instant.now();
            Instant from = lifetime.isNegative() ? now.plus(lifetime).minus(Duration.ofDays(1)) : now.minusSeconds(3600);
            var subject = new X500Name("CN=" + host);
            var builder = new JcaX509v3CertificateBuilder(subject, new BigInteger(64, new SecureRandom()),
                    Date.from(from), Date.from(now.plus(lifetime)), subject, pair.getPublic())
                    .addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(new GeneralName(GeneralName.dNSName, host)));
            var leaf = new JcaX509CertificateConverter().getCertificate(builder.build(
                    new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
            return new TestCertificate(leaf, pair);
        }

        String chainPem() {
            return Pem.encode(List.of(leaf));
        }

        String keyPem() {
            return Pem.encode(pair.getPrivate());
        }

        /** A line of the key's PEM: what would show if the key leaked. */
        String keyMarker() {
            return keyPem().lines().skip(1).findFirst().orElseThrow();
        }
    }
}
