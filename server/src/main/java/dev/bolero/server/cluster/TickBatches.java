package dev.bolero.server.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Items many threads hand in, written a tick at a time by one worker thread: the items handed in within {@code tick}
 * of the first one waiting go to {@code writer} together (at most {@code max}), and each caller waits for its own
 * item's outcome. One write for many callers instead of one each: a store round trip, a transaction, a thread's wake-up.
 * Thread-safe.
 *
 * @param <I> what callers hand in
 * @param <O> each item's outcome
 */
final class TickBatches<I, O> implements AutoCloseable {
    /** Writes a batch, in the order handed in; the outcomes in that order. A throw fails every item of it. */
    @FunctionalInterface
    interface Writer<I, O> {
        List<O> write(List<I> batch);
    }

    private record Pending<I, O>(I item, CompletableFuture<O> outcome) {}

    private final String name;
    private final Duration tick;
    private final int max;
    private final Writer<I, O> writer;
    private final LinkedBlockingQueue<Pending<I, O>> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean closed;

    /** Starts the worker, a virtual thread named {@code name}. */
    TickBatches(String name, Duration tick, int max, Writer<I, O> writer) {
        this.name = name;
        this.tick = tick;
        this.max = max;
        this.writer = writer;
        this.worker = Thread.ofVirtual().name(name).start(this::work);
    }

    /**
     * Hands {@code item} in and waits for its batch's write: its outcome.
     *
     * @param action what the caller does, for the errors
     * @throws RuntimeException what the batch's write threw
     * @throws IllegalStateException naming {@code action} when closed or interrupted
     */
    O submit(String action, I item) {
        var pending = new Pending<I, O>(item, new CompletableFuture<>());
        queue.add(pending);
        if (closed) fail(List.of()); // closed meanwhile: the worker may be gone
        try {
            return pending.outcome().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(action + ": interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(action + ": " + e.getCause(), e);
        }
    }

    private void work() {
        var batch = new ArrayList<Pending<I, O>>(max);
        while (!closed) {
            try {
                batch.add(queue.take());
                Thread.sleep(tick);
            } catch (InterruptedException e) {
                break;
            }
            queue.drainTo(batch, max - batch.size());
            write(batch);
            batch.clear();
        }
        fail(batch);
    }

    private void write(List<Pending<I, O>> batch) {
        try {
            List<O> outcomes = writer.write(batch.stream().map(Pending::item).toList());
            if (outcomes.size() != batch.size()) {
                throw new IllegalStateException(name + ": " + outcomes.size() + " outcomes for " + batch.size());
            }
            for (int i = 0; i < batch.size(); i++) batch.get(i).outcome().complete(outcomes.get(i));
        } catch (RuntimeException e) {
            batch.forEach(p -> p.outcome().completeExceptionally(e));
        }
    }

    /** Fails {@code left} and every queued item: closed. */
    private void fail(List<Pending<I, O>> left) {
        var all = new ArrayList<>(left);
        queue.drainTo(all);
        all.forEach(p -> p.outcome().completeExceptionally(new IllegalStateException(name + ": closed")));
    }

    /** Stops the worker; items still queued fail. */
    @Override
    public void close() {
        closed = true;
        Workers.stop(worker);
    }
}
