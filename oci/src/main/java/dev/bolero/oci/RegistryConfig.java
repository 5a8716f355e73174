package dev.bolero.oci;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * How registries are reached. Hosts on 127.0.0.0/8 and {@code localhost} are always spoken to over plain HTTP; so
 * are the {@code insecureRegistries} (each {@code host} or {@code host:port}, as written in references). Every other
 * registry is reached over HTTPS with certificate verification.
 *
 * @param insecureRegistries registries reached over plain HTTP
 * @param credentials per registry name as written in references ({@code docker.io}, {@code host:port})
 * @param readTimeout how long a registry may keep a pull waiting: for a response's headers, and for each read of its
 *     body (a registry that stalls mid-blob fails the pull after this long without data, however long the blob)
 */
public record RegistryConfig(Set<String> insecureRegistries, Map<String, Credentials> credentials, Duration readTimeout) {
    /** The default {@link #readTimeout}: 30 seconds. */
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(30);

    public RegistryConfig {
        insecureRegistries = Set.copyOf(insecureRegistries);
        credentials = Map.copyOf(credentials);
        if (readTimeout.isNegative() || readTimeout.isZero()) {
            throw new IllegalArgumentException("readTimeout must be positive, got " + readTimeout);
        }
    }

    /** These registries with the {@link #DEFAULT_READ_TIMEOUT}. */
    public RegistryConfig(Set<String> insecureRegistries, Map<String, Credentials> credentials) {
        this(insecureRegistries, credentials, DEFAULT_READ_TIMEOUT);
    }

    /** No insecure registries besides loopback, no credentials. */
    public static RegistryConfig defaults() {
        return new RegistryConfig(Set.of(), Map.of());
    }

    /** This configuration with {@code timeout} as its {@link #readTimeout}. */
    public RegistryConfig withReadTimeout(Duration timeout) {
        return new RegistryConfig(insecureRegistries, credentials, timeout);
    }

    /** Credentials for the registry named {@code registry} in a reference, if configured. */
    public Optional<Credentials> credentialsFor(String registry) {
        return Optional.ofNullable(credentials.get(registry));
    }

    /** Whether {@code registry} (host[:port]) is reached over plain HTTP. */
    public boolean isPlainHttp(String registry) {
        if (insecureRegistries.contains(registry)) {
            return true;
        }
        int colon = registry.lastIndexOf(':');
        String host = colon >= 0 ? registry.substring(0, colon) : registry;
        return insecureRegistries.contains(host) || host.equals("localhost") || host.matches("127(\\.[0-9]{1,3}){3}");
    }

    /** This configuration with {@code more} credentials added (replacing those of the same registry). */
    public RegistryConfig withCredentials(Map<String, Credentials> more) {
        Map<String, Credentials> merged = new HashMap<>(credentials);
        merged.putAll(more);
        return new RegistryConfig(insecureRegistries, merged, readTimeout);
    }

    /**
     * Reads the {@code auths} of a Docker-style {@code config.json}: per registry either {@code auth} (base64 of
     * {@code user:password}) or {@code username} and {@code password}. Keys may be URLs
     * ({@code https://index.docker.io/v1/}); they are reduced to the registry name used in references, Docker Hub's
     * aliases to {@code docker.io}. Entries with neither form (credential helpers) are ignored.
     *
     * @throws IOException naming the file and the entry if the file cannot be read or an entry is malformed
     */
    public static Map<String, Credentials> readDockerConfig(Path file) throws IOException {
        JsonNode root;
        try {
            root = JsonMapper.builder().build().readTree(Files.readAllBytes(file));
        } catch (JacksonException e) {
            throw new IOException("registry config " + file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        Map<String, Credentials> out = new HashMap<>();
        for (var auth : root.path("auths").properties()) {
            String registry = registryName(auth.getKey());
            JsonNode entry = auth.getValue();
            try {
                String encoded = entry.path("auth").asString("");
                if (!encoded.isEmpty()) {
                    String decoded = new String(Base64.getDecoder().decode(encoded.strip()), StandardCharsets.UTF_8);
                    int colon = decoded.indexOf(':');
                    if (colon < 0) {
                        throw new IllegalArgumentException("auth is not base64 of user:password");
                    }
                    out.put(registry, new Credentials(decoded.substring(0, colon), decoded.substring(colon + 1)));
                } else if (entry.has("username") && entry.has("password")) {
                    out.put(registry, new Credentials(entry.path("username").asString(""), entry.path("password").asString("")));
                }
            } catch (IllegalArgumentException e) {
                throw new IOException("registry config " + file + ": entry " + auth.getKey() + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    /** {@code https://host:port/v1/} and the like reduced to {@code host:port}; Docker Hub's aliases to docker.io. */
    static String registryName(String key) {
        String name = key.strip().replaceFirst("^[a-zA-Z][a-zA-Z0-9+.-]*://", "");
        int slash = name.indexOf('/');
        if (slash >= 0) {
            name = name.substring(0, slash);
        }
        return switch (name) {
            case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com" -> ImageReference.DOCKER_HUB;
            default -> name;
        };
    }
}
