package dev.bolero.oci;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Speaks the OCI distribution protocol to registries: plain HTTP or HTTPS per {@link RegistryConfig}, anonymous,
 * basic or bearer-token authentication (tokens cached per registry and scope until they expire; a token the registry
 * refuses before then, one that expired or was revoked mid-pull, is renewed once per request), redirects followed by
 * hand so credentials never travel to another host. Every response must start, and every read of its body return,
 * within {@link RegistryConfig#readTimeout}. One instance is shared by all pulls.
 */
final class RegistryClient {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration SMALL_REQUEST_TIMEOUT = Duration.ofSeconds(60);
    private static final int MAX_REDIRECTS = 5;
    private static final long DEFAULT_TOKEN_SECONDS = 60;
    private static final Pattern CHALLENGE_PARAM = Pattern.compile("(\\w+)=(?:\"([^\"]*)\"|([^,\\s]*))");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient http;
    private final RegistryConfig config;
    private final Map<String, CachedAuth> auth = new ConcurrentHashMap<>();

    /** An Authorization header value; bearer tokens expire, basic credentials do not. */
    private record CachedAuth(String header, OptionalLong expiresAtNanos) {
        boolean valid() {
            return expiresAtNanos.isEmpty() || System.nanoTime() - expiresAtNanos.getAsLong() < 0;
        }
    }

    RegistryClient(RegistryConfig config) {
        this.config = config;
        this.http = HttpClient.newBuilder()
                .connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /**
     * Calls {@code endpoint} for {@code image}, authenticating as the registry asks.
     *
     * @throws PullException saying what failed: the registry's own error message, unauthorized, or unreachable
     */
    <T> T send(ImageReference image, RegistryEndpoint<T> endpoint) throws PullException {
        String scope = "repository:" + image.repository() + ":pull";
        String cacheKey = image.registry() + " " + scope;
        URI uri = URI.create(baseUri(image) + endpoint.path(image));
        Optional<String> authorization = Optional.ofNullable(auth.get(cacheKey)).filter(CachedAuth::valid).map(CachedAuth::header);
        try {
            for (int attempt = 0; ; attempt++) {
                HttpResponse<InputStream> response = get(image, uri, endpoint.accept(), authorization, endpoint);
                try (InputStream body = new ReadTimeout(response.body(), config.readTimeout(), "registry " + image.registry()
                        + " sent no data for " + config.readTimeout().toSeconds() + " s while " + endpoint.describe() + " was fetched")) {
                    int status = response.statusCode();
                    if (status / 100 == 2) {
                        return endpoint.handle(response, body);
                    }
                    if (status == 401 && attempt == 0) {
                        CachedAuth fresh = authenticate(image, response, scope);
                        auth.put(cacheKey, fresh);
                        authorization = Optional.of(fresh.header());
                        continue;
                    }
                    throw new PullException(errorMessage(status, body.readNBytes(64 * 1024), endpoint, authorization.isPresent()));
                }
            }
        } catch (IOException e) {
            throw ioFailure(image, endpoint, e);
        } catch (PullException e) {
            // a stall surfaces wherever the body was being read (in a layer's entry): its own message says it all
            throw PullIOException.in(e).map(p -> new PullException(p.getMessage(), e)).orElse(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PullException("interrupted while fetching " + endpoint.describe(), e);
        }
    }

    private String baseUri(ImageReference image) {
        return (config.isPlainHttp(image.registry()) ? "http://" : "https://") + image.apiHost() + "/v2/";
    }

    private HttpResponse<InputStream> get(ImageReference image, URI uri, List<String> accept, Optional<String> authorization,
            RegistryEndpoint<?> endpoint) throws IOException, InterruptedException, PullException {
        URI current = uri;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder request = HttpRequest.newBuilder(current).GET().header("Accept", String.join(", ", accept))
                    .timeout(config.readTimeout()); // until the headers: the body's reads are timed one by one
            boolean sameHost = current.getAuthority().equals(uri.getAuthority());
            authorization.filter(a -> sameHost).ifPresent(a -> request.header("Authorization", a));
            HttpResponse<InputStream> response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            int status = response.statusCode();
            Optional<String> location = response.headers().firstValue("Location");
            if (status / 100 != 3 || status == 304 || location.isEmpty()) {
                return response;
            }
            response.body().close();
            current = current.resolve(location.get());
            if (!current.getScheme().equals("https") && !(current.getScheme().equals("http")
                    && config.isPlainHttp(current.getAuthority()))) {
                throw new PullException(endpoint.describe() + ": registry " + image.registry() + " redirected to " + current.getScheme()
                        + "://" + current.getAuthority() + ", which is not allowed");
            }
        }
        throw new PullException(endpoint.describe() + ": more than " + MAX_REDIRECTS + " redirects");
    }

    /** Answers a 401 challenge: basic credentials, or a bearer token from the realm the registry names. */
    private CachedAuth authenticate(ImageReference image, HttpResponse<InputStream> response, String scope)
            throws IOException, InterruptedException, PullException {
        String header = response.headers().firstValue("WWW-Authenticate").orElse("");
        Optional<Credentials> credentials = config.credentialsFor(image.registry());
        Challenge challenge = Challenge.parse(header);
        if (challenge.scheme().equalsIgnoreCase("basic")) {
            Credentials c = credentials.orElseThrow(() -> new PullException(
                    "unauthorized: registry " + image.registry() + " requires credentials and none are configured"));
            return new CachedAuth(basic(c), OptionalLong.empty());
        }
        if (!challenge.scheme().equalsIgnoreCase("bearer") || !challenge.params().containsKey("realm")) {
            throw new PullException("unauthorized: registry " + image.registry() + " sent an unsupported challenge '" + header + "'");
        }
        return fetchToken(image, challenge, scope, credentials);
    }

    private CachedAuth fetchToken(ImageReference image, Challenge challenge, String defaultScope, Optional<Credentials> credentials)
            throws IOException, InterruptedException, PullException {
        StringBuilder query = new StringBuilder();
        String scope = challenge.params().getOrDefault("scope", defaultScope);
        for (Map.Entry<String, String> p : List.of(Map.entry("service", challenge.params().getOrDefault("service", "")),
                Map.entry("scope", scope))) {
            if (!p.getValue().isEmpty()) {
                query.append(query.isEmpty() ? "" : "&").append(p.getKey()).append('=')
                        .append(URLEncoder.encode(p.getValue(), StandardCharsets.UTF_8));
            }
        }
        String realm = challenge.params().get("realm");
        URI uri = URI.create(realm + (query.isEmpty() ? "" : (realm.contains("?") ? "&" : "?") + query));
        if (!uri.getScheme().equals("https") && !(uri.getScheme().equals("http") && config.isPlainHttp(uri.getAuthority()))) {
            throw new PullException("unauthorized: token realm " + realm + " of registry " + image.registry() + " is not HTTPS");
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).GET().timeout(SMALL_REQUEST_TIMEOUT);
        credentials.ifPresent(c -> request.header("Authorization", basic(c)));
        HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            throw new PullException("unauthorized: token service " + uri.getAuthority() + " answered HTTP " + response.statusCode()
                    + registryMessage(response.body()).map(m -> " (" + m + ")").orElse(""));
        }
        try {
            JsonNode body = JSON.readTree(response.body());
            String token = body.path("token").asString(body.path("access_token").asString(""));
            if (token.isEmpty()) {
                throw new PullException("unauthorized: token service " + uri.getAuthority() + " returned no token");
            }
            long seconds = Math.max(body.path("expires_in").asLong(DEFAULT_TOKEN_SECONDS), 10);
            return new CachedAuth("Bearer " + token, OptionalLong.of(System.nanoTime() + Duration.ofSeconds(seconds - 5).toNanos()));
        } catch (JacksonException e) {
            throw new PullException("unauthorized: token service " + uri.getAuthority() + " returned invalid JSON", e);
        }
    }

    private static String basic(Credentials c) {
        return "Basic " + Base64.getEncoder().encodeToString((c.username() + ":" + c.password()).getBytes(StandardCharsets.UTF_8));
    }

    /** A parsed {@code WWW-Authenticate} header. */
    record Challenge(String scheme, Map<String, String> params) {
        static Challenge parse(String header) {
            String trimmed = header.strip();
            int space = trimmed.indexOf(' ');
            String scheme = space < 0 ? trimmed : trimmed.substring(0, space);
            Map<String, String> params = new LinkedHashMap<>();
            if (space >= 0) {
                Matcher m = CHALLENGE_PARAM.matcher(trimmed.substring(space + 1));
                while (m.find()) {
                    params.put(m.group(1).toLowerCase(java.util.Locale.ROOT), m.group(2) != null ? m.group(2) : m.group(3));
                }
            }
            return new Challenge(scheme, Map.copyOf(params));
        }
    }

    private static String errorMessage(int status, byte[] body, RegistryEndpoint<?> endpoint, boolean authenticated) {
        Optional<String> message = registryMessage(body);
        if (status == 401 || status == 403) {
            return (authenticated ? "unauthorized" : "unauthorized (no credentials)") + message.map(m -> ": " + m).orElse("")
                    + " for " + endpoint.describe();
        }
        return message.orElse("HTTP " + status + " for " + endpoint.describe());
    }

    /** The first {@code errors[].message} of a registry error body (with its detail for unknown codes). */
    private static Optional<String> registryMessage(byte[] body) {
        try {
            JsonNode first = JSON.readTree(body).path("errors").path(0);
            String message = first.path("message").asString("");
            return message.isEmpty() ? Optional.empty() : Optional.of(message);
        } catch (JacksonException e) {
            return Optional.empty();
        }
    }

    private PullException ioFailure(ImageReference image, RegistryEndpoint<?> endpoint, IOException e) {
        String registry = image.registry();
        Optional<PullIOException> own = PullIOException.in(e);
        if (own.isPresent()) {
            return new PullException(own.get().getMessage(), e); // a stall, a budget: says all
        }
        if (e instanceof HttpConnectTimeoutException) {
            return new PullException("registry " + registry + " unreachable (connect timed out)", e);
        }
        if (e instanceof HttpTimeoutException) {
            return new PullException("registry " + registry + " timed out fetching " + endpoint.describe(), e);
        }
        if (e instanceof ConnectException) {
            return new PullException("registry " + registry + " unreachable (" + connectFailure(image.apiHost(), e) + ")", e);
        }
        if (e instanceof SSLException) {
            return new PullException("registry " + registry + ": TLS failed (" + rootMessage(e) + ")", e);
        }
        return new PullException("registry " + registry + ": fetching " + endpoint.describe() + " failed (" + rootMessage(e) + ")", e);
    }

    /**
     * Why a connection failed. The HTTP client's ConnectException often carries no message, so when it has none a
     * plain socket connect is tried once to learn the operating system's reason ("Connection refused", "No route to
     * host").
     */
    private String connectFailure(String apiHost, IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException && t.getMessage() != null && !t.getMessage().isBlank()) {
                return t.getMessage();
            }
        }
        URI uri = URI.create("//" + apiHost);
        int port = uri.getPort() >= 0 ? uri.getPort() : config.isPlainHttp(apiHost) ? 80 : 443;
        try (Socket probe = new Socket()) {
            probe.connect(new InetSocketAddress(uri.getHost(), port), (int) CONNECT_TIMEOUT.toMillis());
            return rootMessage(e);
        } catch (IOException probeFailure) {
            return rootMessage(probeFailure);
        }
    }

    private static String rootMessage(Throwable e) {
        String message = e.getClass().getSimpleName();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                message = t.getMessage();
            }
        }
        return message;
    }
}
