package dev.bolero.api;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The check a process runs on its SQLite store before using it (the agent's machines, the server's cluster): a
 * damaged file is refused at start with the damage named, instead of being migrated over or read wrongly later.
 */
public final class SqliteIntegrity {
    /** How many of SQLite's problem lines an error quotes. */
    private static final int QUOTED = 5;

    private SqliteIntegrity() {}

    /**
     * Runs {@code PRAGMA quick_check} (every page and index entry read once, without comparing index contents to
     * their tables) on the database at {@code file}.
     *
     * @throws IllegalStateException naming {@code file} and the first problems SQLite found, when it is damaged or is
     *     not a database at all
     */
    public static void requireIntact(DataSource dataSource, Path file) {
        List<String> problems = new ArrayList<>();
        try (Connection c = dataSource.getConnection(); var statement = c.createStatement();
             var rows = statement.executeQuery("PRAGMA quick_check(" + QUOTED + ")")) {
            while (rows.next()) problems.add(rows.getString(1));
        } catch (SQLException e) {
            problems = List.of(e.getMessage());
        }
        if (problems.equals(List.of("ok"))) return;
        throw new IllegalStateException("the database " + file + " is damaged (" + String.join("; ", problems)
                + "): nothing was changed; restore it from a backup, or move it aside to start empty");
    }
}
