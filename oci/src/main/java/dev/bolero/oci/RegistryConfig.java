package dev.bolero.oci;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * How registries are reached. Hosts on 127.0.0.0/8 and {@code localhost} are always spoken to over plain HTTP; so
 * are the {@code insecureRegistries} (each {@code host} or {@code host:port}, as written in references). Every other
 * registry is reached over HTTPS with certificate verification.
 *
 * @param insecureRegistries registries reached over plain HTTP
 * @param credentials per registry name as written in references ({@code docker.io}, {@code host:port})
 */
public record RegistryConfig(Set<String> insecureRegistries, Map<String, Credentials> credentials) {
    public RegistryConfig {
        insecureRegistries = Set.copyOf(insecureRegistries);
        credentials = Map.copyOf(credentials);
    }

    /** No insecure registries besides loopback, no credentials. */
    public static RegistryConfig defaults() {
        return new RegistryConfig(Set.of(), Map.of());
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
}
