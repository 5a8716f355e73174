package dev.bolero.server;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The cluster suite on PostgreSQL: a throwaway cluster for the class, a fresh database per test. */
class PostgresClusterTest extends ClusterSuite {
    static PostgresCluster postgres;

    @BeforeAll
    static void startPostgres() throws Exception {
        String why = PostgresCluster.unavailable();
        if (why != null) System.out.println("skipping PostgreSQL tests: " + why);
        assumeTrue(why == null, why);
        postgres = new PostgresCluster();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (postgres != null) postgres.close();
    }

    @Override
    Optional<String> database() throws Exception {
        return Optional.of(postgres.newDatabase());
    }
}
