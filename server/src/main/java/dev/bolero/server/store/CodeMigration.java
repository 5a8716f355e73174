package dev.bolero.server.store;

import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.migration.JavaMigration;

/**
 * A schema migration written in Java, run by Flyway beside the SQL ones in one transaction. Its checksum is its
 * version: the migration's code is its identity, as a SQL file's text is.
 */
abstract class CodeMigration implements JavaMigration {
    private final int version;
    private final String description;

    CodeMigration(int version, String description) {
        this.version = version;
        this.description = description;
    }

    @Override
    public final MigrationVersion getVersion() {
        return MigrationVersion.fromVersion(Integer.toString(version));
    }

    @Override
    public final String getDescription() {
        return description;
    }

    @Override
    public final Integer getChecksum() {
        return version;
    }

    @Override
    public final boolean canExecuteInTransaction() {
        return true;
    }
}
