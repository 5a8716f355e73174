package dev.bolero.server.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.api.wire.AuditEntry;
import dev.bolero.server.PostgresCluster;
import dev.bolero.server.store.AuditStore;
import dev.bolero.server.store.ServerStore;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audit log's writer on real stores: concurrent appends make whole chains, also from two replicas at once. */
class AuditLogTest {
    private static final int CALLS = 200;

    @TempDir
    Path dir;

    private static AuditLog.Call call(String namespace, int n) {
        return new AuditLog.Call("tok-" + n, namespace, "createMachine", "/v1/namespaces/" + namespace + "/m/" + n,
                201, "127.0.0.1");
    }

    /** Records {@link #CALLS} calls from as many threads, spread over two namespaces and the cluster's chain. */
    private static void recordConcurrently(List<AuditLog> logs) throws Exception {
        var tasks = new ArrayList<Callable<AuditEntry>>();
        for (int i = 0; i < CALLS; i++) {
            int n = i;
            AuditLog log = logs.get(i % logs.size());
            String ns = switch (i % 3) {
                case 0 -> "a";
                case 1 -> "b";
                default -> null;
            };
            tasks.add(() -> log.record(call(ns, n)));
        }
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (var f : pool.invokeAll(tasks)) f.get();
        }
    }

    private static void assertWhole(AuditLog log) {
        int total = 0;
        for (String ns : new String[] {"a", "b", null}) {
            List<AuditEntry> chain = log.list(ns, 0, AuditStore.Filter.ALL, 1000);
            assertThat(AuditEntry.verify(chain)).as("chain %s", ns).isEmpty();
            assertThat(chain).allMatch(e -> java.util.Objects.equals(e.namespace(), ns));
            total += chain.size();
        }
        assertThat(total).isEqualTo(CALLS);
    }

    @Test
    void concurrentCallsMakeWholeChainsOnSqlite() throws Exception {
        try (var store = ServerStore.sqlite(dir.resolve("server.db"));
             var log = new AuditLog(store, Clock.systemUTC())) {
            recordConcurrently(List.of(log));
            assertWhole(log);
        }
    }

    @Test
    void twoReplicasAppendingToTheSameChainsMakeWholeChainsOnPostgres() throws Exception {
        String why = PostgresCluster.unavailable();
        if (why != null) System.out.println("skipping PostgreSQL audit test: " + why);
        assumeTrue(why == null, why);
        try (var postgres = new PostgresCluster()) {
            String url = postgres.newDatabase();
            try (var one = ServerStore.postgres(url); var two = ServerStore.postgres(url);
                 var first = new AuditLog(one, Clock.systemUTC()); var second = new AuditLog(two, Clock.systemUTC())) {
                recordConcurrently(List.of(first, second));
                assertWhole(first);
            }
        }
    }

    @Test
    void aClosedLogRefusesCalls() {
        try (var store = ServerStore.sqlite(dir.resolve("closed.db"))) {
            var log = new AuditLog(store, Clock.systemUTC());
            log.record(call("a", 1));
            log.close();
            assertThatThrownBy(() -> log.record(call("a", 2))).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("log closed");
            assertThat(log.list("a", 0, AuditStore.Filter.ALL, 10)).hasSize(1);
        }
    }
}
