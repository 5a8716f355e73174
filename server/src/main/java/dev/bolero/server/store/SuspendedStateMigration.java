package dev.bolero.server.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.flywaydb.core.api.migration.Context;

/**
 * Version 22 of the schema: a machine's {@code desired_state} may be {@code suspended}. The column's CHECK constraint
 * is widened: on PostgreSQL by replacing the constraint; on SQLite, which cannot alter a constraint, by rebuilding the
 * table from its own definition as SQLite keeps it (with the new CHECK), its rows and its indexes. Unlike a SQL
 * migration that lists the columns (V18), the rebuild keeps whatever columns earlier migrations added.
 */
final class SuspendedStateMigration extends CodeMigration {
    static final String OLD_CHECK = "CHECK (desired_state IN ('running', 'stopped', 'destroyed'))";
    static final String NEW_CHECK = "CHECK (desired_state IN ('running', 'stopped', 'suspended', 'destroyed'))";
    private static final Pattern CREATE = Pattern.compile("^CREATE TABLE \"?machines\"? \\(");

    SuspendedStateMigration() {
        super(22, "suspended desired state");
    }

    @Override
    public void migrate(Context context) throws SQLException {
        Connection c = context.getConnection();
        try (Statement st = c.createStatement()) {
            if (c.getMetaData().getDatabaseProductName().equals("PostgreSQL")) {
                st.execute("ALTER TABLE machines DROP CONSTRAINT machines_desired_state_check");
                st.execute("ALTER TABLE machines ADD CONSTRAINT machines_desired_state_check " + NEW_CHECK);
            } else {
                rebuildSqlite(st);
            }
        }
    }

    private static void rebuildSqlite(Statement st) throws SQLException {
        String table;
        try (var rs = st.executeQuery("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'machines'")) {
            if (!rs.next()) throw new SQLException("migrate machines to version 22: no table machines");
            table = rs.getString(1);
        }
        var indexes = new ArrayList<String>();
        try (var rs = st.executeQuery("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'machines' "
                + "AND sql IS NOT NULL")) {
            while (rs.next()) indexes.add(rs.getString(1));
        }
        st.execute(widened(table));
        st.execute("INSERT INTO machines_v22 SELECT * FROM machines");
        st.execute("DROP TABLE machines");
        st.execute("ALTER TABLE machines_v22 RENAME TO machines");
        for (String index : indexes) st.execute(index);
    }

    /**
     * The definition of table {@code machines_v22}: {@code machines}' as SQLite keeps it, with the CHECK constraint of
     * {@code desired_state} widened.
     *
     * @throws SQLException when the definition is not the one expected (the table changed in a way this does not know)
     */
    static String widened(String table) throws SQLException {
        Matcher create = CREATE.matcher(table);
        int check = table.indexOf(OLD_CHECK);
        if (!create.find() || check < 0 || table.indexOf(OLD_CHECK, check + 1) >= 0) {
            throw new SQLException("migrate machines to version 22: unexpected definition: " + table);
        }
        return create.replaceFirst("CREATE TABLE machines_v22 (").replace(OLD_CHECK, NEW_CHECK);
    }
}
