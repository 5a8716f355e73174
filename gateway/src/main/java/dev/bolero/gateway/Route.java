package dev.bolero.gateway;

import dev.bolero.core.ValidationException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * Where requests for one fleet go: its running machines and its {@code http_service} settings.
 *
 * @param backends the fleet's running machines, in no particular order, each machine id once
 * @param autoStart whether a request that finds no healthy machine asks the {@link Waker} for one and waits
 * @param forceHttps whether plain-HTTP requests are redirected to HTTPS
 */
public record Route(FleetKey fleet, List<Backend> backends, Concurrency concurrency, boolean autoStart, boolean forceHttps) {
    /** @throws ValidationException when a machine id appears twice */
    public Route {
        Objects.requireNonNull(fleet, "fleet");
        Objects.requireNonNull(concurrency, "concurrency");
        backends = List.copyOf(backends);
        var ids = new HashSet<String>();
        for (Backend backend : backends) {
            if (!ids.add(backend.machineId())) {
                throw new ValidationException("route " + fleet + ": machine " + backend.machineId() + " listed twice");
            }
        }
    }

    public static Builder builder(FleetKey fleet) {
        return new Builder(fleet);
    }

    /** Builds a {@link Route}; by default no backends, {@link Concurrency#DEFAULT}, no auto start, no forced HTTPS. */
    public static final class Builder {
        private final FleetKey fleet;
        private final List<Backend> backends = new ArrayList<>();
        private Concurrency concurrency = Concurrency.DEFAULT;
        private boolean autoStart;
        private boolean forceHttps;

        private Builder(FleetKey fleet) {
            this.fleet = Objects.requireNonNull(fleet, "fleet");
        }

        public Builder backend(Backend backend) {
            backends.add(Objects.requireNonNull(backend, "backend"));
            return this;
        }

        public Builder concurrency(Concurrency concurrency) {
            this.concurrency = Objects.requireNonNull(concurrency, "concurrency");
            return this;
        }

        public Builder autoStart(boolean autoStart) {
            this.autoStart = autoStart;
            return this;
        }

        public Builder forceHttps(boolean forceHttps) {
            this.forceHttps = forceHttps;
            return this;
        }

        public Route build() {
            return new Route(fleet, backends, concurrency, autoStart, forceHttps);
        }
    }
}
