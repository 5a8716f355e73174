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

/**
 * The audit log on real stores: concurrent appends, through its writer and in other writes' transactions, make whole
 * chains, also from two replicas at once.
 */
class AuditLogTest {
    private static final int CALLS = 200;

    @TempDir
    Path dir;

    private static AuditLog.Call call(String namespace, int n) {
        return new AuditLog.Call("tok-" + n, namespace, "createMachine", "/v1/namespaces/" + namespace + "/m/" + n,
                201, "127.0.0.1");
    }

    /**
     * Records {@link #CALLS} calls from as many threads, spread over two namespaces and the cluster's chain: one in
     * four appended in a write transaction of its own ({@link AuditLog#appendIn}, as a create's entry goes in with its
     * machine), the others through the logs' writers.
     */
    private static void recordConcurrently(List<AuditLog> logs, List<ServerStore> stores) throws Exception {
        var tasks = new ArrayList<Callable<AuditEntry>>();
        for (int i = 0; i < CALLS; i++) {
            int n = i;
            AuditLog log = logs.get(i % logs.size());
            ServerStore store = stores.get(i % stores.size());
            String ns = switch (i % 3) {
                case 0 -> "a";
                case 1 -> "b";
                default -> null;
            };
            tasks.add(i % 4 == 0
                    ? () -> store.write("create " + n, tx -> AuditLog.appendIn(tx, List.of(call(ns, n)),
                            Clock.systemUTC())).getFirst()
                    : () -> log.record(call(ns, n)));
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
            recordConcurrently(List.of(log), List.of(store));
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
                recordConcurrently(List.of(first, second), List.of(one, two));
                assertWhole(first);
            }
        }
    }

    @Test
    void anEntryAppendedInAWriteThatRollsBackIsNotInTheChain() {
        try (var store = ServerStore.sqlite(dir.resolve("rollback.db"));
             var log = new AuditLog(store, Clock.systemUTC())) {
            log.record(call("a", 1));
            assertThatThrownBy(() -> store.write("create 2", tx -> {
                AuditLog.appendIn(tx, List.of(call("a", 2)), Clock.systemUTC());
                throw new IllegalStateException("create 2: refused after its entry");
            })).hasMessageContaining("refused after its entry");
            AuditEntry third = store.write("create 3", tx -> AuditLog.appendIn(tx, List.of(call("a", 3), call(null, 3)),
                    Clock.systemUTC())).getFirst();
            log.record(call("a", 4));
            List<AuditEntry> chain = log.list("a", 0, AuditStore.Filter.ALL, 10);
            assertThat(chain).extracting(AuditEntry::object).containsExactly("/v1/namespaces/a/m/1",
                    "/v1/namespaces/a/m/3", "/v1/namespaces/a/m/4");
            assertThat(third.seq()).isEqualTo(2);
            assertThat(AuditEntry.verify(chain)).isEmpty();
            assertThat(log.list(null, 0, AuditStore.Filter.ALL, 10)).hasSize(1);
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
