package dev.bolero.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import java.nio.file.Path;
import java.sql.DriverManager;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpecColumnMigrationTest {

    @Test
    void aMachineRowOfSchemaThreeKeepsItsConfigAsASpecWithoutTheNamespace(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("server.db");
        String url = "jdbc:sqlite:" + file;
        Flyway.configure().dataSource(url, null, null).locations("classpath:db/server").target("3").load().migrate();
        try (var c = DriverManager.getConnection(url); var st = c.createStatement()) {
            st.execute("INSERT INTO namespaces (name, created_at) VALUES ('alpha', 0)");
            st.execute("INSERT INTO fleets (namespace, name, config, created_at, updated_at) "
                    + "VALUES ('alpha', 'web', '{\"name\":\"web\"}', 0, 0)");
            st.execute("INSERT INTO machines (id, namespace, fleet, name, config, cpus, memory_mb, node_labels, "
                    + "restart, desired_state, generation, observed_state, modify_index, created_at, updated_at) "
                    + "VALUES ('m1', 'alpha', 'web', 'one', '{\"image\":\"app:1\",\"guest\":{\"cpus\":2,"
                    + "\"memory_mb\":512,\"rootfs_mb\":null},\"init\":{\"entrypoint\":null,\"cmd\":null,"
                    + "\"workdir\":null,\"user\":null},\"env\":{\"A\":\"1\"},\"restart\":{\"policy\":\"always\","
                    + "\"max_retries\":null},\"auto_destroy\":false,\"stop\":{\"signal\":\"SIGTERM\",\"timeout_s\":10},"
                    + "\"namespace\":\"alpha\",\"network\":{\"egress\":true},\"services\":[]}', 2, 512, '{}', "
                    + "'always', 'running', 1, 'created', 0, 0, 0)");
        }

        try (var store = ServerStore.sqlite(file)) {
            MachineRow row = store.read("read", tx -> tx.machines().get("m1")).orElseThrow();

            assertThat(row.spec()).isEqualTo(MachineSpec.builder("app:1").guest(2, 512).env("A", "1")
                    .restart(new MachineSpec.Restart("always", null)).build());
            assertThat(row.namespace()).isEqualTo("alpha");
            assertThat(row.desiredState()).isEqualTo(MachineState.RUNNING);
        }
    }
}
