package dev.bolero.server.store;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A group commit of reports ({@link ServerStore#report}): jobs from any number of callers queue up, and one worker runs
 * everything queued (up to {@code max} jobs) in one transaction, so a burst of reports costs one transaction and one
 * commit, not one each. Each caller gets its own job's outcome. When the shared transaction fails (one job threw, or
 * the store failed), each job of the batch runs again in a transaction of its own, so a failing job fails alone and
 * the others are recorded; jobs must therefore be safe to run again, as any transaction's work is
 * ({@link ServerStore.Work}).
 *
 * @param <J> a job
 * @param <R> a job's outcome
 */
public final class GroupCommit<J, R> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GroupCommit.class);

    /** What a job does in the shared transaction. */
    @FunctionalInterface
    public interface Work<J, R> {
        R run(Tx tx, J job) throws SQLException;
    }

    private record Queued<J, R>(String action, J job, CompletableFuture<R> result) {}

    private final ServerStore store;
    private final String what;
    private final int max;
    private final Work<J, R> work;
    private final LinkedBlockingQueue<Queued<J, R>> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean closed;

    /**
     * Starts the worker.
     *
     * @param what what the jobs are, plural, for the batch's action ("heartbeats")
     * @param max at most this many jobs in one transaction
     */
    public GroupCommit(ServerStore store, String what, int max, Work<J, R> work) {
        if (max < 1) throw new IllegalArgumentException("group commit of " + what + ": max must be 1 or more");
        this.store = store;
        this.what = what;
        this.max = max;
        this.work = work;
        this.worker = Thread.ofVirtual().name("group-commit-" + what).start(this::work);
    }

    /**
     * Runs {@code job} in the next batch's transaction and returns its outcome once that transaction committed.
     *
     * @throws dev.bolero.api.ApiException as the job threw it
     * @throws StoreException when its transaction failed, naming {@code action}
     * @throws IllegalStateException when closed or interrupted
     */
    public R run(String action, J job) {
        if (closed) throw new IllegalStateException(action + ": the group commit of " + what + " is closed");
        var queued = new Queued<J, R>(action, job, new CompletableFuture<>());
        queue.add(queued);
        if (closed) failQueued(); // closed meanwhile: the worker may be gone
        try {
            return queued.result().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(action + ": interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(action + ": " + e.getCause().getMessage(), e.getCause());
        }
    }

    /** How many jobs wait for the next batch. */
    int queued() {
        return queue.size();
    }

    private void work() {
        var batch = new ArrayList<Queued<J, R>>();
        while (!closed) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                break;
            }
            queue.drainTo(batch, max - 1);
            commit(batch);
            batch.clear();
        }
        failQueued();
    }

    /** Runs {@code batch} in one transaction, or each job alone when that fails; completes every job. */
    private void commit(List<Queued<J, R>> batch) {
        if (batch.size() > 1) {
            try {
                List<R> results = store.report("record " + batch.size() + " " + what, tx -> {
                    var out = new ArrayList<R>(batch.size());
                    for (var q : batch) out.add(work.run(tx, q.job()));
                    return out;
                });
                for (int i = 0; i < batch.size(); i++) batch.get(i).result().complete(results.get(i));
                return;
            } catch (RuntimeException e) {
                log.debug("record {} {}: {}; recording each alone", batch.size(), what, e.getMessage());
            }
        }
        for (var q : batch) {
            try {
                q.result().complete(store.report(q.action(), tx -> work.run(tx, q.job())));
            } catch (RuntimeException e) {
                q.result().completeExceptionally(e);
            }
        }
    }

    private void failQueued() {
        var left = new ArrayList<Queued<J, R>>();
        queue.drainTo(left);
        left.forEach(q -> q.result().completeExceptionally(new IllegalStateException(q.action()
                + ": the group commit of " + what + " is closed")));
    }

    /** Stops the worker once its batch is done; jobs still queued fail. */
    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        try {
            worker.join(java.time.Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failQueued();
    }
}
