package dev.bolero.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.ApiException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GroupCommitTest {
    private static final Instant NOW = Instant.ofEpochMilli(1_000);

    /**
     * A job: insert namespace {@code name}; fail after writing when {@code fail}. It first counts {@code started} down
     * and waits for {@code hold}.
     */
    private record Insert(String name, boolean fail, CountDownLatch started, CountDownLatch hold) {
        Insert(String name, boolean fail) {
            this(name, fail, new CountDownLatch(0), new CountDownLatch(0));
        }
    }

    /** Runs an {@link Insert}; its outcome is the transaction it ran in. */
    private static Tx insert(Tx tx, Insert job) throws java.sql.SQLException {
        job.started().countDown();
        try {
            job.hold().await();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        tx.namespaces().insert(job.name(), NOW);
        if (job.fail()) throw ApiException.invalid("insert " + job.name() + ": refused after writing");
        return tx;
    }

    @Test
    void jobsQueuedWhileABatchCommitsAreRecordedTogetherInOneTransaction(@TempDir Path dir) throws Exception {
        try (var store = ServerStore.sqlite(dir.resolve("server.db"));
             var commits = new GroupCommit<Insert, Tx>(store, "inserts", 64, GroupCommitTest::insert)) {
            var jobs = new ArrayList<Insert>();
            for (int i = 0; i < 20; i++) jobs.add(new Insert("n" + i, false));

            var transactions = new ArrayList<Tx>();
            for (var f : behindABlockedBatch(commits, jobs)) transactions.add(f.get());

            assertThat(transactions).allSatisfy(tx -> assertThat(tx).isSameAs(transactions.getFirst()));
            assertThat(store.read("count", tx -> tx.namespaces().list()).size()).isEqualTo(21);
        }
    }

    @Test
    void aJobThatFailsInABatchFailsAloneAndTheOthersAreRecorded(@TempDir Path dir) throws Exception {
        try (var store = ServerStore.sqlite(dir.resolve("server.db"));
             var commits = new GroupCommit<Insert, Tx>(store, "inserts", 64, GroupCommitTest::insert)) {
            var jobs = new ArrayList<Insert>();
            for (int i = 0; i < 10; i++) jobs.add(new Insert("n" + i, false));
            jobs.add(new Insert("bad", true));

            var outcomes = behindABlockedBatch(commits, jobs);

            for (var f : outcomes.subList(0, 10)) f.get();
            assertThatThrownBy(outcomes.getLast()::get).hasCauseInstanceOf(ApiException.class)
                    .hasMessageContaining("insert bad: refused after writing");
            List<String> names = store.read("list", tx -> tx.namespaces().list()).stream()
                    .map(dev.bolero.api.wire.Namespace::name).toList();
            assertThat(names).hasSize(11).doesNotContain("bad");
        }
    }

    @Test
    void aClosedGroupCommitRefusesJobs(@TempDir Path dir) {
        try (var store = ServerStore.sqlite(dir.resolve("server.db"))) {
            var commits = new GroupCommit<Insert, Tx>(store, "inserts", 64, GroupCommitTest::insert);
            commits.close();
            assertThatThrownBy(() -> commits.run("insert a", new Insert("a", false)))
                    .isInstanceOf(IllegalStateException.class).hasMessage("insert a: the group commit of inserts is closed");
        }
    }

    /**
     * Runs a first job ("a") that holds its batch's transaction open until {@code jobs} are all queued behind it, so they
     * make the next batch together; returns their outcomes, in order, once "a" committed.
     */
    private static List<Future<Tx>> behindABlockedBatch(GroupCommit<Insert, Tx> commits, List<Insert> jobs)
            throws Exception {
        var started = new CountDownLatch(1);
        var hold = new CountDownLatch(1);
        var pool = Executors.newVirtualThreadPerTaskExecutor();
        Future<Tx> blocking = pool.submit(() -> commits.run("insert a", new Insert("a", false, started, hold)));
        started.await(); // the worker is inside the first batch's transaction
        var outcomes = new ArrayList<Future<Tx>>();
        for (Insert job : jobs) outcomes.add(pool.submit(() -> commits.run("insert " + job.name(), job)));
        while (commits.queued() < jobs.size()) Thread.sleep(5);
        hold.countDown();
        blocking.get();
        pool.shutdown();
        return outcomes;
    }
}
