package dev.bolero.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.core.MachineState;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SuspendedStateMigrationTest {

    @Test
    void aSqliteMachinesTableIsRebuiltWithItsRowsColumnsAndIndexesAndTakesSuspendedButNoOtherNewState(
            @TempDir Path dir) throws Exception {
        Path file = dir.resolve("server.db");
        String url = "jdbc:sqlite:" + file;
        Flyway.configure().dataSource(url, null, null).locations("classpath:db/server")
                .javaMigrations(new SpecColumnMigration()).target("19").load().migrate();
        try (var c = DriverManager.getConnection(url); var st = c.createStatement()) {
            st.execute("INSERT INTO namespaces (name, created_at) VALUES ('alpha', 0)");
            st.execute("INSERT INTO fleets (namespace, name, config, created_at, updated_at) "
                    + "VALUES ('alpha', 'web', '{\"name\":\"web\"}', 0, 0)");
            st.execute("INSERT INTO machines (id, namespace, fleet, name, spec, cpus, memory_mb, node_labels, "
                    + "desired_state, generation, observed_state, modify_index, created_at, updated_at, private_ip) "
                    + "VALUES ('m1', 'alpha', 'web', 'one', '{\"image\":\"app:1\"}', 2, 512, '{}', 'running', 3, "
                    + "'running', 7, 0, 0, '10.0.0.9')");
        }

        try (var store = ServerStore.sqlite(file)) {
            MachineRow row = store.read("read", tx -> tx.machines().get("m1")).orElseThrow();
            assertThat(row.desiredState()).isEqualTo(MachineState.RUNNING);
            assertThat(row.generation()).isEqualTo(3);
            assertThat(row.reported().privateIp()).isEqualTo("10.0.0.9");
            store.write("suspend", tx -> {
                tx.machines().setDesired("m1", MachineState.SUSPENDED, null, Instant.EPOCH);
                return null;
            });
            assertThat(store.read("read", tx -> tx.machines().get("m1")).orElseThrow().desiredState())
                    .isEqualTo(MachineState.SUSPENDED);
        }
        try (var c = DriverManager.getConnection(url); var st = c.createStatement()) {
            var indexes = new ArrayList<String>();
            try (var rs = st.executeQuery("SELECT name FROM sqlite_master WHERE type = 'index' "
                    + "AND tbl_name = 'machines' AND sql IS NOT NULL")) {
                while (rs.next()) indexes.add(rs.getString(1));
            }
            assertThat(indexes).containsExactlyInAnyOrder("machines_node", "machines_namespace", "machines_usage");
            assertThatThrownBy(() -> st.execute("UPDATE machines SET desired_state = 'paused'"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("CHECK");
        }
    }

    @Test
    void aDefinitionWithoutTheExpectedCheckIsRefusedNotGuessedAt() {
        assertThatThrownBy(() -> SuspendedStateMigration.widened("CREATE TABLE machines (id TEXT PRIMARY KEY, "
                + "desired_state TEXT NOT NULL)"))
                .isInstanceOf(SQLException.class).hasMessageContaining("unexpected definition");
        assertThatThrownBy(() -> SuspendedStateMigration.widened("CREATE TABLE other ("
                + SuspendedStateMigration.OLD_CHECK + ")")).isInstanceOf(SQLException.class);
    }
}
