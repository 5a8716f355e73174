package dev.bolero.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.api.wire.FleetStrategy;
import dev.bolero.api.wire.Quota;
import dev.bolero.api.wire.QuotaUsage;
import dev.bolero.core.MachineSpec;
import dev.bolero.server.PostgresCluster;
import dev.bolero.server.store.ServerStore;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Quotas in the store, on SQLite and on PostgreSQL (two stores over one database, as two server replicas): limits read
 * back as set, usage is counted from the rows, and concurrent writes each checking the quota in their own transaction
 * never take a namespace past it.
 */
class QuotasTest {
    private static final Instant NOW = Instant.parse("2026-12-02T12:00:00Z");
    private static final int WRITERS = 32;

    @TempDir
    Path dir;

    @Test
    void onSqliteLimitsReadBackAndConcurrentCreatesStopAtTheLimit() throws Exception {
        try (var store = ServerStore.sqlite(dir.resolve("server.db"))) {
            limitsReadBackAsSet(store);
            concurrentCreatesStopAtTheLimit(List.of(store));
        }
    }

    @Test
    void onPostgresLimitsReadBackAndConcurrentCreatesOnTwoReplicasStopAtTheLimit() throws Exception {
        String why = PostgresCluster.unavailable();
        if (why != null) System.out.println("skipping PostgreSQL quota test: " + why);
        assumeTrue(why == null, why);
        try (var postgres = new PostgresCluster()) {
            String url = postgres.newDatabase();
            try (var one = ServerStore.postgres(url); var two = ServerStore.postgres(url)) {
                limitsReadBackAsSet(one);
                concurrentCreatesStopAtTheLimit(List.of(one, two));
            }
        }
    }

    private static void limitsReadBackAsSet(ServerStore store) {
        store.write("set up", tx -> {
            tx.namespaces().insert("limits", NOW);
            assertThat(tx.quotas().get("limits")).isEmpty();
            tx.quotas().put("limits", new Quota(3, null, 1024, 0, null), NOW);
            tx.quotas().put("limits", new Quota(4, 8, null, 0, 20), NOW); // replaces every limit
            return null;
        });
        Optional<Quota> read = store.read("get", tx -> tx.quotas().get("limits"));
        assertThat(read).contains(new Quota(4, 8, null, 0, 20));
        QuotaUsage usage = store.read("usage", tx -> tx.quotas().usage("limits"));
        assertThat(usage).isEqualTo(QuotaUsage.NONE);
        assertThatThrownBy(() -> store.write("a volume", tx -> {
            Quotas.check(tx, "limits", QuotaUsage.volumes(1, 1), "create volume limits/v");
            return null;
        })).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.QUOTA_EXCEEDED);
            assertThat(e).hasMessage("create volume limits/v: namespace limits is limited to 0 volumes; this would "
                    + "make it 1 (it has 0)");
        });
    }

    /**
     * {@value #WRITERS} writers spread over {@code stores} each create a 2 GiB volume at once, under a quota of 5
     * volumes and 9 GiB: exactly 4 fit (the fifth would make 10 GiB).
     */
    private static void concurrentCreatesStopAtTheLimit(List<ServerStore> stores) throws Exception {
        stores.getFirst().write("set up", tx -> {
            tx.namespaces().insert("race", NOW);
            tx.quotas().put("race", new Quota(null, null, null, 5, 9), NOW);
            return null;
        });
        var start = new CountDownLatch(1);
        var created = new AtomicInteger();
        var refused = new AtomicInteger();
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < WRITERS; i++) {
            ServerStore store = stores.get(i % stores.size());
            String name = "v" + i;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    start.await();
                    store.write("create volume race/" + name, tx -> {
                        Quotas.check(tx, "race", QuotaUsage.volumes(1, 2), "create volume race/" + name);
                        tx.volumes().insert("race", "vol_" + name, name, 2, null, null, null, NOW);
                        return null;
                    });
                    created.incrementAndGet();
                } catch (ApiException e) {
                    if (e.code() == ErrorCode.QUOTA_EXCEEDED) refused.incrementAndGet();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        start.countDown();
        for (Thread t : threads) t.join();
        assertThat(created.get()).isEqualTo(4);
        assertThat(refused.get()).isEqualTo(WRITERS - 4);
        QuotaUsage usage = stores.getLast().read("usage", tx -> tx.quotas().usage("race"));
        assertThat(usage).isEqualTo(QuotaUsage.volumes(4, 8));
    }

    @Test
    void aFleetCountsAsItsCountOfMachinesOfItsConfigsSizeAndShrinkingIsNeverRefused() throws Exception {
        try (var store = ServerStore.sqlite(dir.resolve("fleets.db"))) {
            store.write("set up", tx -> {
                tx.namespaces().insert("alpha", NOW);
                tx.quotas().put("alpha", new Quota(null, 4, null, null, null), NOW);
                return null;
            });
            var config = MachineSpec.builder().image("busybox").guest(2, 256).overlay();
            var two = new FleetSpec("web", FleetStrategy.DEFAULT, null, Map.of(), config, 2);
            var three = two.withCount(3);
            store.write("fits", tx -> {
                Quotas.checkFleet(tx, "alpha", "web", null, two, "create fleet alpha/web");
                return null;
            });
            assertThatThrownBy(() -> store.write("too big", tx -> {
                Quotas.checkFleet(tx, "alpha", "web", two, three, "scale fleet alpha/web");
                return null;
            })).hasMessage("scale fleet alpha/web: namespace alpha is limited to 4 vCPUs; this would make it 6 (it "
                    + "has 4)");
            store.write("lowered", tx -> {
                tx.quotas().put("alpha", new Quota(null, 1, null, null, null), NOW);
                Quotas.checkFleet(tx, "alpha", "web", three, two, "scale fleet alpha/web"); // over, but shrinking
                Quotas.checkFleet(tx, "alpha", "web", two, two.withCount(null), "update fleet alpha/web");
                return null;
            });
        }
    }
}
