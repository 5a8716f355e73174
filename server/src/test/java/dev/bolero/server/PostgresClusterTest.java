package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.Arrays;
import java.util.List;
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
        var plans = new PlanLog();
        var node = agent("n1", Map.of(), 4, 8192);
        String id = machine("alpha", "web", ADMIN, small("web-1")).path("id").asString();
        long generation = node.poll(0).path("machines").get(0).path("generation").asLong();
        plans.analyze();

        // Generic plans, whether pgjdbc has named the statement yet (after 5 uses on a connection) or not.
        for (int i = 0; i < 12; i++) {
            String state = i % 2 == 0 ? "running" : "stopped";
            assertThat(node.report(id, generation, state, null).status()).isEqualTo(200);
        }

        var reports = plans.since().stream()
                .filter(p -> p.contains("Query Text: WITH beat AS") || p.contains("Query Text: UPDATE machines SET "
                        + "observed_state")).toList();
        assertThat(reports).as("the reports' plans in the log").hasSizeGreaterThanOrEqualTo(12);
        assertThat(reports).noneMatch(p -> p.contains("Seq Scan on machines") || p.contains("Seq Scan on nodes"));
    }

    /**
     * A create's name check (in its placement's transaction, sent with the batch's other reads) is planned for its
     * names each time it runs, never by a plan kept from earlier statistics: PostgreSQL would otherwise keep one
     * generic plan from the sixth run on a connection, and one made on a nearly empty, just-analyzed table reads
     * every machine of the namespace until the table is analyzed again. A generic plan shows its parameters ({@code
     * $2}), a plan for the arguments their values.
     */
    @Test
    void aCreatesNameCheckIsPlannedForItsNamesEachTime() throws Exception {
        var plans = new PlanLog();
        agent("n1", Map.of(), 64, 65536);
        machine("alpha", "web", ADMIN, small("web-0"));
        plans.analyze();

        for (int i = 1; i <= 12; i++) machine("alpha", "web", ADMIN, small("web-" + i));

        var checks = plans.since().stream()
                .filter(p -> p.contains("SELECT name, desired_state FROM machines WHERE")).toList();
        assertThat(checks).as("the name checks' plans in the log").hasSizeGreaterThanOrEqualTo(12);
        for (int i = 1; i <= 12; i++) {
            String name = "'web-" + i + "'";
            assertThat(checks).as("a plan for " + name).anyMatch(p -> p.contains(name));
        }
        assertThat(checks).noneMatch(p -> p.lines()
                .anyMatch(line -> (line.contains("Filter:") || line.contains("Cond:")) && line.contains("$")));
    }

    /**
     * A test's database with every plan logged ({@code auto_explain}), its server restarted on it, namespace
     * {@code alpha} with fleet {@code web}; {@link #analyze} analyzes its tables and marks the log, {@link #since}
     * returns the plans logged after the mark.
     */
    private final class PlanLog {
        private final Path log = postgres.dir.resolve("log");
        private final String jdbc;
        private long mark;

        PlanLog() throws Exception {
            String url = postgres.newDatabase();
            jdbc = "jdbc:" + url.replace("bolero@", "");
            try (var c = DriverManager.getConnection(jdbc, "bolero", null); var s = c.createStatement()) {
                String name = url.substring(url.lastIndexOf('/') + 1);
                s.execute("ALTER DATABASE " + name + " SET session_preload_libraries = 'auto_explain'");
                s.execute("ALTER DATABASE " + name + " SET auto_explain.log_min_duration = 0");
            }
            restart(config(dataDir, Optional.of(url)));
            namespace("alpha");
            fleet("alpha", "web", "spread");
        }

        void analyze() throws Exception {
            try (var c = DriverManager.getConnection(jdbc, "bolero", null); var s = c.createStatement()) {
                s.execute("ANALYZE machines");
                s.execute("ANALYZE nodes");
            }
            mark = Files.size(log);
        }

        List<String> since() throws Exception {
            String after;
            try (var in = Files.newInputStream(log)) {
                in.skipNBytes(mark);
                after = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            return Arrays.stream(after.split("LOG:  duration: ")).skip(1).toList();
        }
    }
}
