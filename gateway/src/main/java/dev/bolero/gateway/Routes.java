package dev.bolero.gateway;

import dev.bolero.core.ValidationException;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One immutable view of every fleet the gateway serves: each fleet answers to {@code <fleet>.<namespace>.<domain>}
 * and to the custom host names attached to it. A custom host name may not lie under the cluster's domain, so one
 * tenant can never claim a name that looks like another tenant's fleet.
 */
public final class Routes {
    private final String domain;
    private final Map<FleetKey, Route> fleets;
    private final Map<String, Route> byHost;
    private final Map<String, String> uploaded;

    private Routes(String domain, Map<FleetKey, Route> fleets, Map<String, FleetKey> customHosts,
                   Map<String, String> uploaded) {
        this.domain = domain;
        this.uploaded = Map.copyOf(uploaded);
        this.fleets = Map.copyOf(fleets);
        var hosts = new HashMap<String, Route>();
        for (Route route : fleets.values()) {
            hosts.put(route.fleet().fleet() + "." + route.fleet().namespace() + "." + domain, route);
        }
        customHosts.forEach((host, owner) -> {
            Route route = fleets.get(owner);
            if (route == null) {
                throw new ValidationException("hostname " + host + ": fleet " + owner + " has no route");
            }
            hosts.put(host, route);
        });
        this.byHost = Map.copyOf(hosts);
    }

    /** No fleets at all, under {@code domain}. */
    public static Routes empty(String domain) {
        return builder(domain).build();
    }

    public static Builder builder(String domain) {
        return new Builder(domain);
    }

    public String domain() {
        return domain;
    }

    /** Every fleet's route. */
    public Collection<Route> routes() {
        return fleets.values();
    }

    /** Every host name the routes answer to: each fleet's own and the custom ones, normalized. */
    public Set<String> hosts() {
        return byHost.keySet();
    }

    /**
     * The fingerprint of the certificate the tenant uploaded for custom host name {@code host} (normalized), which the
     * gateway serves instead of issuing one; empty for the fleets' own names and custom ones without an upload.
     */
    public Optional<String> uploadedCertificate(String host) {
        return Optional.ofNullable(uploaded.get(host));
    }

    /** The route of the fleet, if the gateway serves it. */
    public Optional<Route> fleet(FleetKey fleet) {
        return Optional.ofNullable(fleets.get(fleet));
    }

    /**
     * The route for a request's host: lower-cased, without a port or a trailing dot.
     *
     * @param host the request's host as the client sent it ({@code Web.Alpha.example.com.:443} is fine)
     */
    public Optional<Route> resolve(String host) {
        return Optional.ofNullable(byHost.get(normalize(host)));
    }

    static String normalize(String host) {
        if (host == null) {
            return "";
        }
        String name = host;
        if (!name.startsWith("[")) {
            int colon = name.lastIndexOf(':');
            if (colon >= 0) {
                name = name.substring(0, colon);
            }
        }
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        return name.toLowerCase(Locale.ROOT);
    }

    /** Builds {@link Routes}; later routes for the same fleet replace earlier ones. */
    public static final class Builder {
        private final String domain;
        private final Map<FleetKey, Route> fleets = new LinkedHashMap<>();
        private final Map<String, FleetKey> customHosts = new LinkedHashMap<>();
        private final Map<String, String> uploaded = new HashMap<>();

        private Builder(String domain) {
            String name = normalize(Objects.requireNonNull(domain, "domain"));
            if (name.isEmpty() || name.startsWith(".")) {
                throw new ValidationException("domain " + domain + ": not a host name");
            }
            this.domain = name;
        }

        public Builder route(Route route) {
            fleets.put(route.fleet(), route);
            return this;
        }

        /**
         * Attaches a custom host name to a fleet, its certificate issued by the gateway.
         *
         * @throws ValidationException when the name lies under the cluster's domain or already belongs to another fleet
         */
        public Builder hostname(String host, FleetKey fleet) {
            return hostname(host, fleet, Optional.empty());
        }

        /**
         * Attaches a custom host name to a fleet, with the fingerprint of the certificate its tenant uploaded, if any.
         *
         * @throws ValidationException when the name lies under the cluster's domain or already belongs to another fleet
         */
        public Builder hostname(String host, FleetKey fleet, Optional<String> uploadedCertificate) {
            String name = normalize(host);
            if (name.isEmpty() || name.equals(domain) || name.endsWith("." + domain)) {
                throw new ValidationException("hostname " + host + ": names under " + domain + " are the fleets' own");
            }
            FleetKey owner = customHosts.putIfAbsent(name, Objects.requireNonNull(fleet, "fleet"));
            if (owner != null && !owner.equals(fleet)) {
                throw new ValidationException("hostname " + host + ": already attached to " + owner);
            }
            uploadedCertificate.ifPresentOrElse(c -> uploaded.put(name, c), () -> uploaded.remove(name));
            return this;
        }

        /** @throws ValidationException when a custom host name's fleet has no route */
        public Routes build() {
            return new Routes(domain, fleets, customHosts, uploaded);
        }
    }
}
