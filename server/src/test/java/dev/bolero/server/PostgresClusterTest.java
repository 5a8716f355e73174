package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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

    /**
     * A report's statements keep one generic plan per connection, made on the statistics of when they are planned: one
     * made right after the machines table was analyzed nearly empty must still find rows by key, not scan the table
     * (at 15,000 machines a scan took ~1.4 ms of PostgreSQL's CPU per report against 0.05 ms by key). Every plan of
     * the database is logged ({@code auto_explain}) and the reports' plans after the analysis are read back.
     */
    @Test
    void reportsFindTheirRowsByKeyAfterTheMachinesTableWasAnalyzedNearlyEmpty() throws Exception {
        String url = postgres.newDatabase();
        String jdbc = "jdbc:" + url.replace("bolero@", "");
        try (var c = DriverManager.getConnection(jdbc, "bolero", null); var s = c.createStatement()) {
            String name = url.substring(url.lastIndexOf('/') + 1);
            s.execute("ALTER DATABASE " + name + " SET session_preload_libraries = 'auto_explain'");
            s.execute("ALTER DATABASE " + name + " SET auto_explain.log_min_duration = 0");
        }
        restart(config(dataDir, Optional.of(url)));
        namespace("alpha");
        fleet("alpha", "web", "spread");
        var node = agent("n1", Map.of(), 4, 8192);
        String id = machine("alpha", "web", ADMIN, small("web-1")).path("id").asString();
        long generation = node.poll(0).path("machines").get(0).path("generation").asLong();
        try (var c = DriverManager.getConnection(jdbc, "bolero", null); var s = c.createStatement()) {
            s.execute("ANALYZE machines");
            s.execute("ANALYZE nodes");
        }
        Path log = postgres.dir.resolve("log");
        long analyzed = Files.size(log);

        // Generic plans, whether pgjdbc has named the statement yet (after 5 uses on a connection) or not.
        for (int i = 0; i < 12; i++) {
            String state = i % 2 == 0 ? "running" : "stopped";
            assertThat(node.report(id, generation, state, null).status()).isEqualTo(200);
        }

        String after;
        try (var in = Files.newInputStream(log)) {
            in.skipNBytes(analyzed);
            after = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        var plans = Arrays.stream(after.split("LOG:  duration: ")).skip(1).toList();
        var reports = plans.stream()
                .filter(p -> p.contains("Query Text: WITH beat AS") || p.contains("Query Text: UPDATE machines SET "
                        + "observed_state")).toList();
        assertThat(reports).as("the reports' plans in the log").hasSizeGreaterThanOrEqualTo(12);
        assertThat(reports).noneMatch(p -> p.contains("Seq Scan on machines") || p.contains("Seq Scan on nodes"));
    }
}
