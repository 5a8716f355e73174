package dev.bolero.oci.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import tools.jackson.databind.json.JsonMapper;

/**
 * A registry token service (the Docker "token authentication" flow) in the test JVM, for a real docker-registry
 * configured with {@code auth: token}. {@code GET /token?service=…&scope=…} with the right HTTP basic credentials
 * returns an RS256 JWT granting the requested {@code pull}/{@code push} actions; without credentials it returns an
 * anonymous token granting nothing (as public token services do); with wrong credentials it answers 401. The token's
 * header carries the signing certificate ({@code x5c}), which the registry checks against its
 * {@code rootcertbundle}: {@link #certificate()}, a self-signed certificate made by {@code openssl req -x509}.
 */
final class TokenServer implements AutoCloseable {
    static final String SERVICE = "bolero-test";
    static final String ISSUER = "bolero-test-issuer";
    private static final Set<String> GRANTABLE = Set.of("pull", "push");
    private static final long TOKEN_SECONDS = 300;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpServer server;
    private final Path certificate;
    private final PrivateKey key;
    private final String x5c;
    private final String user;
    private final String password;
    private final List<String> issued = new CopyOnWriteArrayList<>();

    private TokenServer(HttpServer server, Path certificate, PrivateKey key, String x5c, String user, String password) {
        this.server = server;
        this.certificate = certificate;
        this.key = key;
        this.x5c = x5c;
        this.user = user;
        this.password = password;
    }

    /**
     * Makes a key and certificate in {@code dir} with openssl and serves tokens on a free loopback port.
     *
     * @throws IOException if openssl fails or the key cannot be read
     */
    static TokenServer start(Path dir, String user, String password) throws IOException {
        Path keyFile = dir.resolve("token-key.pem");
        Path certificate = dir.resolve("token-cert.pem");
        TestRegistry.run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=bolero-test", "-days", "1",
                "-keyout", keyFile.toString(), "-out", certificate.toString()), Map.of());
        PrivateKey key;
        String x5c;
        try {
            String pem = Files.readString(keyFile).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
            key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem)));
            X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(certificate)));
            x5c = Base64.getEncoder().encodeToString(cert.getEncoded());
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException("read the token key and certificate in " + dir, e);
        }
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        TokenServer tokens = new TokenServer(server, certificate, key, x5c, user, password);
        server.createContext("/token", tokens::serve);
        server.start();
        return tokens;
    }

    /** {@code http://127.0.0.1:PORT/token}. */
    String realm() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
    }

    /** The PEM certificate whose key signs the tokens: the registry's {@code rootcertbundle}. */
    Path certificate() {
        return certificate;
    }

    /** One entry per token issued: {@code SUBJECT SCOPE…} ({@code SUBJECT} is empty for anonymous tokens). */
    List<String> issued() {
        return List.copyOf(issued);
    }

    private void serve(HttpExchange exchange) throws IOException {
        try (exchange) {
            Map<String, List<String>> query = query(exchange.getRequestURI().getRawQuery());
            if (!query.getOrDefault("service", List.of()).equals(List.of(SERVICE))) {
                respond(exchange, 400, error("UNSUPPORTED", "unknown service " + query.get("service")));
                return;
            }
            String authorization = exchange.getRequestHeaders().getFirst("Authorization");
            String subject = "";
            if (authorization != null) {
                String expected = "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
                if (!expected.equals(authorization)) {
                    respond(exchange, 401, error("UNAUTHORIZED", "invalid username or password"));
                    return;
                }
                subject = user;
            }
            List<Map<String, Object>> access = new ArrayList<>();
            if (!subject.isEmpty()) {
                for (String scope : query.getOrDefault("scope", List.of())) {
                    int first = scope.indexOf(':');
                    int last = scope.lastIndexOf(':');
                    if (first > 0 && last > first && scope.substring(0, first).equals("repository")) {
                        List<String> actions = List.of(scope.substring(last + 1).split(",")).stream().filter(GRANTABLE::contains).toList();
                        access.add(Map.of("type", "repository", "name", scope.substring(first + 1, last), "actions", actions));
                    }
                }
            }
            List<String> entry = new ArrayList<>(subject.isEmpty() ? List.of() : List.of(subject));
            entry.addAll(query.getOrDefault("scope", List.of()));
            issued.add(String.join(" ", entry));
            respond(exchange, 200, JSON.writeValueAsBytes(Map.of("token", token(subject, access), "expires_in", TOKEN_SECONDS)));
        } catch (GeneralSecurityException e) {
            throw new IOException("sign a token", e);
        }
    }

    private String token(String subject, List<Map<String, Object>> access) throws GeneralSecurityException {
        long now = Instant.now().getEpochSecond();
        Map<String, Object> header = Map.of("typ", "JWT", "alg", "RS256", "x5c", List.of(x5c));
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("iss", ISSUER);
        claims.put("sub", subject);
        claims.put("aud", SERVICE);
        claims.put("exp", now + TOKEN_SECONDS);
        claims.put("nbf", now - 10);
        claims.put("iat", now);
        claims.put("jti", UUID.randomUUID().toString());
        claims.put("access", access);
        Base64.Encoder url = Base64.getUrlEncoder().withoutPadding();
        String signed = url.encodeToString(JSON.writeValueAsBytes(header)) + "." + url.encodeToString(JSON.writeValueAsBytes(claims));
        Signature signature = Signature.getInstance("SHA256withRSA");
        signature.initSign(key);
        signature.update(signed.getBytes(StandardCharsets.US_ASCII));
        return signed + "." + url.encodeToString(signature.sign());
    }

    private static Map<String, List<String>> query(String raw) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String pair : raw == null ? new String[0] : raw.split("&")) {
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
        }
        return out;
    }

    private static byte[] error(String code, String message) {
        return JSON.writeValueAsBytes(Map.of("errors", List.of(Map.of("code", code, "message", message))));
    }

    private static void respond(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
