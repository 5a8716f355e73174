package dev.bolero.oci.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real registry for tests: Debian's {@code docker-registry serve} on {@code 127.0.0.1} and a free port, storing into
 * a temporary directory. {@link #close()} kills it and deletes its storage. Tests on a host without
 * {@code docker-registry} are skipped (a JUnit assumption).
 */
public final class TestRegistry implements AutoCloseable {
    private static final Path BINARY = Path.of("/usr/bin/docker-registry");
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(20);
    private static final int START_ATTEMPTS = 3;

    private final Process process;
    private final Path dir;
    private final String host;
    private final Optional<String> credentials;
    private final Optional<TokenServer> tokens;

    private TestRegistry(Process process, Path dir, String host, Optional<String> credentials, Optional<TokenServer> tokens) {
        this.process = process;
        this.dir = dir;
        this.host = host;
        this.credentials = credentials;
        this.tokens = tokens;
    }

    /** How clients authenticate to the registry. */
    private sealed interface Auth {
        record Anonymous() implements Auth {}

        record Basic(String user, String password) implements Auth {}

        record Token(String user, String password) implements Auth {}
    }

    /** Starts an anonymous registry. */
    public static TestRegistry start() throws IOException {
        return start(new Auth.Anonymous(), "127.0.0.1");
    }

    /**
     * Starts an anonymous registry listening on {@code address} (an IPv4 address of this host) instead of loopback,
     * for clients in other network namespaces; they must treat {@link #host()} as an insecure (plain HTTP) registry.
     */
    public static TestRegistry startOn(String address) throws IOException {
        return start(new Auth.Anonymous(), address);
    }

    /** Starts a registry that demands HTTP basic authentication as {@code user}/{@code password} (htpasswd, bcrypt). */
    public static TestRegistry startWithBasicAuth(String user, String password) throws IOException {
        return start(new Auth.Basic(user, password), "127.0.0.1");
    }

    /**
     * Starts a registry that demands bearer tokens ({@code auth: token}) from a token service in this JVM, which issues
     * them to HTTP basic {@code user}/{@code password} (and anonymous tokens granting nothing to clients without
     * credentials). Skipped without {@code openssl}, which makes the token signing key.
     */
    public static TestRegistry startWithTokenAuth(String user, String password) throws IOException {
        return start(new Auth.Token(user, password), "127.0.0.1");
    }

    private static TestRegistry start(Auth authentication, String address) throws IOException {
        Assumptions.assumeTrue(Files.isExecutable(BINARY), "docker-registry is not installed (apt-get install docker-registry)");
        IOException last = null;
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            Path dir = Files.createTempDirectory("bolero-registry-");
            try {
                return startIn(dir, authentication, address);
            } catch (IOException e) {
                deleteTree(dir);
                last = e; // most likely the free port was taken in between; try another
            }
        }
        throw last;
    }

    private static TestRegistry startIn(Path dir, Auth authentication, String address) throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String host = address + ":" + port;
        String auth = "";
        Optional<String> credentials = Optional.empty();
        Optional<TokenServer> tokens = Optional.empty();
        switch (authentication) {
            case Auth.Anonymous a -> {}
            case Auth.Basic(String user, String password) -> {
                Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/htpasswd")), "htpasswd is not installed (apt-get install apache2-utils)");
                Path htpasswd = dir.resolve("htpasswd");
                run(List.of("htpasswd", "-Bbc", htpasswd.toString(), user, password), Map.of());
                auth = "auth:\n  htpasswd:\n    realm: bolero-test\n    path: " + htpasswd + "\n";
                credentials = Optional.of(user + ":" + password);
            }
            case Auth.Token(String user, String password) -> {
                Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl is not installed (apt-get install openssl)");
                TokenServer server = TokenServer.start(dir, user, password);
                tokens = Optional.of(server);
                auth = "auth:\n  token:\n    realm: %s\n    service: %s\n    issuer: %s\n    rootcertbundle: %s\n"
                        .formatted(server.realm(), TokenServer.SERVICE, TokenServer.ISSUER, server.certificate());
                credentials = Optional.of(user + ":" + password);
            }
        }
        Path config = dir.resolve("config.yml");
        Process process;
        try {
            Files.writeString(config, """
                version: 0.1
                log:
                  level: warn
                storage:
                  filesystem:
                    rootdirectory: %s
                  delete:
                    enabled: true
                http:
                  addr: %s
                %s""".formatted(dir.resolve("storage"), host, auth));
            process = new ProcessBuilder(BINARY.toString(), "serve", config.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("registry.log").toFile())
                    .start();
        } catch (IOException e) {
            tokens.ifPresent(TokenServer::close);
            throw e;
        }
        TestRegistry registry = new TestRegistry(process, dir, host, credentials, tokens);
        try {
            registry.awaitReady();
            return registry;
        } catch (IOException | RuntimeException e) {
            registry.stop();
            throw e;
        }
    }

    private void awaitReady() throws IOException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            while (System.nanoTime() - deadline < 0) {
                if (!process.isAlive()) {
                    throw new IOException("docker-registry exited with " + process.exitValue() + ": " + log());
                }
                try {
                    HttpResponse<Void> response = http.send(HttpRequest.newBuilder(URI.create("http://" + host + "/v2/"))
                            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                    if (response.statusCode() == 200 || response.statusCode() == 401) {
                        return;
                    }
                } catch (IOException e) {
                    // not listening yet
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for docker-registry", e);
        }
        throw new IOException("docker-registry on " + host + " did not answer /v2/ within " + READY_TIMEOUT + ": " + log());
    }

    private String log() throws IOException {
        Path log = dir.resolve("registry.log");
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8).strip() : "";
    }

    /** {@code ADDRESS:PORT}: {@code 127.0.0.1:PORT} unless started {@link #startOn on} another address. */
    public String host() {
        return host;
    }

    /**
     * The file the registry serves blob {@code hex} (sha256) from, so a test can damage what the registry sends.
     *
     * @throws IOException if the registry holds no such blob
     */
    public Path blobFile(String hex) throws IOException {
        Path data = dir.resolve("storage/docker/registry/v2/blobs/sha256").resolve(hex.substring(0, 2)).resolve(hex)
                .resolve("data");
        if (!Files.isRegularFile(data)) throw new IOException("registry " + host + " holds no blob sha256:" + hex);
        return data;
    }

    /** {@code user:password} if the registry demands authentication (basic, or basic at its token service). */
    Optional<String> credentials() {
        return credentials;
    }

    /**
     * The tokens the token service issued, one entry each: {@code USER SCOPE…}, or just the scopes for an anonymous
     * token.
     *
     * @throws IllegalStateException if the registry was not started with {@link #startWithTokenAuth}
     */
    public List<String> issuedTokens() {
        return tokenServer().issued();
    }

    /**
     * The token service's realm, {@code http://127.0.0.1:PORT/token}.
     *
     * @throws IllegalStateException if the registry was not started with {@link #startWithTokenAuth}
     */
    public String tokenRealm() {
        return tokenServer().realm();
    }

    private TokenServer tokenServer() {
        return tokens.orElseThrow(() -> new IllegalStateException("registry " + host + " does not use token authentication"));
    }

    /** Kills the registry and deletes its storage. */
    @Override
    public void close() {
        stop();
    }

    private void stop() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        tokens.ifPresent(TokenServer::close);
        deleteTree(dir);
    }

    public static void run(List<String> command, Map<String, String> environment) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment);
        Process process = builder.start();
        try {
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (process.waitFor() != 0) {
                throw new IOException(String.join(" ", command) + " failed (exit " + process.exitValue() + "): " + output.strip());
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running " + command.getFirst(), e);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a temporary directory
        }
    }
}
