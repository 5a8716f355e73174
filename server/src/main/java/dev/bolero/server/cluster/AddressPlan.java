package dev.bolero.server.cluster;

import dev.bolero.api.ApiException;
import dev.bolero.network.PrivateAddressing;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.Tx;
import java.sql.SQLException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's private-network address plan ({@link PrivateAddressing}), kept in the store. A server stores the plan
 * it was given when it starts; once a node, namespace or gateway holds an index of it, every address depends on it and
 * it no longer changes: a server given another plan is refused, one given none takes the stored one. A cluster made
 * before the plan was stored, with indexes given, was made with {@link PrivateAddressing#DEFAULT}.
 */
final class AddressPlan {
    private static final Logger log = LoggerFactory.getLogger(AddressPlan.class);

    private AddressPlan() {}

    /**
     * The plan this server runs with: the stored one, or {@code requested} (default {@link PrivateAddressing#DEFAULT})
     * stored when it may still change.
     *
     * @throws IllegalArgumentException when {@code requested} differs from a plan already in use, naming both
     */
    static PrivateAddressing fix(ServerStore store, Optional<PrivateAddressing> requested) {
        Fixed fixed = store.write("fix the private network's address plan", tx -> {
            var addresses = tx.privateNetwork();
            Optional<PrivateAddressing> stored = addresses.plan();
            boolean inUse = addresses.anyIndexGiven();
            if (stored.isEmpty() && inUse) {
                stored = Optional.of(PrivateAddressing.DEFAULT); // made before the plan was stored
                addresses.storePlan(PrivateAddressing.DEFAULT);
            }
            if (stored.isPresent() && requested.map(stored.get()::equals).orElse(true)) {
                return new Fixed(stored.get(), Optional.empty());
            }
            PrivateAddressing plan = requested.orElse(PrivateAddressing.DEFAULT);
            if (stored.isPresent() && inUse) return new Fixed(stored.get(), Optional.of(plan));
            addresses.storePlan(plan);
            stored.ifPresent(before -> log.info("private network plan changed from {} to {} (no address was given "
                    + "yet)", before.describe(), plan.describe()));
            return new Fixed(plan, Optional.empty());
        });
        if (fixed.refused().isPresent()) {
            throw new IllegalArgumentException("start server: the private network's address plan is "
                    + fixed.plan().describe() + ", fixed since nodes hold addresses of it; this server was given "
                    + fixed.refused().get().describe() + " (start it with the cluster's plan, or without one)");
        }
        return fixed.plan();
    }

    /** The cluster's plan, and the one a server was given in vain when it differs from a plan in use. */
    private record Fixed(PrivateAddressing plan, Optional<PrivateAddressing> refused) {}

    /**
     * Refuses to give an index of {@code plan} when the stored plan is another (a server started since with another
     * plan while no index was given).
     *
     * @throws ApiException {@code failed_precondition} naming both plans
     */
    static void check(Tx tx, PrivateAddressing plan, String action) throws SQLException {
        Optional<PrivateAddressing> stored = tx.privateNetwork().plan();
        if (stored.isPresent() && !stored.get().equals(plan)) {
            throw ApiException.failedPrecondition(action + ": this server runs with the private network plan "
                    + plan.describe() + " but the cluster's is now " + stored.get().describe()
                    + "; restart this server with the cluster's plan");
        }
    }
}
