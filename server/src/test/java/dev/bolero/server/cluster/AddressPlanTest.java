package dev.bolero.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import dev.bolero.network.PrivateAddressing;
import dev.bolero.server.store.GatewayPeerStore;
import dev.bolero.server.store.ServerStore;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster's private-network plan as servers started with and without one see it (SQLite). */
class AddressPlanTest {
    private static final PrivateAddressing SMALL = new PrivateAddressing("192.168.0.0/16", 2, 2);

    @TempDir
    Path dir;

    @Test
    void a_cluster_made_before_the_plan_was_stored_keeps_the_default_and_refuses_another() throws Exception {
        Path db = dir.resolve("server.db");
        try (var store = ServerStore.sqlite(db)) {
            assertThat(AddressPlan.fix(store, Optional.empty())).isEqualTo(PrivateAddressing.DEFAULT);
            store.write("register a gateway", tx -> {
                tx.gatewayPeers().put(new GatewayPeerStore.Row("g1", "key", "192.0.2.1:51820", 0, Instant.now()));
                return null;
            });
        }
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + db); var s = c.createStatement()) {
            s.execute("DELETE FROM private_network_plan"); // as an older server left it
        }
        try (var store = ServerStore.sqlite(db)) {
            assertThatThrownBy(() -> AddressPlan.fix(store, Optional.of(SMALL)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("address plan is " + PrivateAddressing.DEFAULT.describe())
                    .hasMessageContaining("given " + SMALL.describe());
            assertThat(AddressPlan.fix(store, Optional.empty())).isEqualTo(PrivateAddressing.DEFAULT);
            Optional<PrivateAddressing> stored = store.read("read the plan", tx -> tx.privateNetwork().plan());
            assertThat(stored).contains(PrivateAddressing.DEFAULT);
        }
    }

    @Test
    void a_server_whose_plan_was_replaced_gives_no_index_of_its_own() {
        try (var store = ServerStore.sqlite(dir.resolve("server.db"))) {
            assertThat(AddressPlan.fix(store, Optional.empty())).isEqualTo(PrivateAddressing.DEFAULT);
            // Another server started with SMALL while no index was given: it replaced the stored plan.
            assertThat(AddressPlan.fix(store, Optional.of(SMALL))).isEqualTo(SMALL);
            assertThatThrownBy(() -> store.write("join node n1", tx -> {
                AddressPlan.check(tx, PrivateAddressing.DEFAULT, "join node n1");
                return null;
            })).isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code())
                    .isEqualTo(ErrorCode.FAILED_PRECONDITION)).hasMessageContaining("join node n1: this server runs "
                    + "with the private network plan " + PrivateAddressing.DEFAULT.describe() + " but the cluster's is "
                    + "now " + SMALL.describe());
            store.write("join node n2", tx -> {
                AddressPlan.check(tx, SMALL, "join node n2");
                return null;
            });
        }
    }
}
