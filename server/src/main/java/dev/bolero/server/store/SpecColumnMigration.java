package dev.bolero.server.store;

import dev.bolero.api.ApiJson;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import org.flywaydb.core.api.migration.Context;
import tools.jackson.databind.node.ObjectNode;

/**
 * Version 4 of the schema, the same on SQLite and PostgreSQL: a machine's row holds its {@code MachineSpec} as JSON in
 * {@code spec} (was {@code config}, which also named the namespace: the row's {@code namespace} column says it), and
 * the {@code restart} column, a copy of the spec's restart policy, goes.
 */
final class SpecColumnMigration extends CodeMigration {

    SpecColumnMigration() {
        super(4, "machine spec column");
    }

    @Override
    public void migrate(Context context) throws SQLException {
        Connection c = context.getConnection();
        try (Statement st = c.createStatement()) {
            st.execute("ALTER TABLE machines RENAME COLUMN config TO spec");
            st.execute("ALTER TABLE machines DROP COLUMN restart");
        }
        var specs = new LinkedHashMap<String, String>();
        try (var ps = c.prepareStatement("SELECT id, spec FROM machines"); var rs = ps.executeQuery()) {
            while (rs.next()) {
                var spec = (ObjectNode) ApiJson.mapper().readTree(rs.getString(2));
                if (spec.remove("namespace") != null) specs.put(rs.getString(1), spec.toString());
            }
        }
        try (var ps = c.prepareStatement("UPDATE machines SET spec = ? WHERE id = ?")) {
            for (var e : specs.entrySet()) {
                ps.setString(1, e.getValue());
                ps.setString(2, e.getKey());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }
}
