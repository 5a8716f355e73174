package dev.bolero.server.audit;

import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import dev.bolero.api.wire.AuditEntry;
import dev.bolero.server.store.AuditStore;
import dev.bolero.server.store.ServerStore;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The append-only audit log of the control plane's mutating calls, one hash chain per namespace ({@link AuditEntry}
 * states the chain rule) and one for the cluster's own objects.
 *
 * <p>Calls are appended by one writer in batches: each {@link #record} waits until its entry's batch is committed
 * (durably, as any other write), so a call that was answered is in the log, and a burst of calls costs one commit per
 * batch rather than one per call. Replicas sharing a PostgreSQL store may append to the same chain at once: the
 * loser's batch hits the chain's unique seq and is retried on the new head. Thread-safe.
 */
public final class AuditLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
    /** The chain of calls on the cluster's own objects (no namespace). */
    static final String CLUSTER = "";
    private static final int BATCH = 256;
    private static final int ATTEMPTS = 20;
    private static final long WAIT_S = 30;

    private final ServerStore store;
    private final Clock clock;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    /**
     * The head of each chain as this writer's last committed batch left it, so a batch reads only the heads of chains
     * it has not appended to yet; dropped when a batch fails (another replica may have appended). Writer thread only.
     */
    private final Map<String, AuditEntry> heads = new HashMap<>();
    private final Thread writer;
    private volatile boolean closed;

    /** A mutating call as the API saw it; {@code namespace} null for the cluster's own objects. */
    public record Call(String tokenId, String namespace, String action, String object, int status, String source) {}

    private record Pending(Call call, CompletableFuture<AuditEntry> done) {}

    public AuditLog(ServerStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
        this.writer = Thread.ofVirtual().name("audit-writer").start(this::write);
    }

    /**
     * Appends {@code call} to its chain and returns the entry once it is committed.
     *
     * @throws IllegalStateException when the log is closed or the entry could not be written (the reason is logged)
     */
    public AuditEntry record(Call call) {
        if (closed) throw new IllegalStateException("audit " + call.action() + " " + call.object() + ": log closed");
        var pending = new Pending(call, new CompletableFuture<>());
        queue.add(pending);
        try {
            return pending.done().get(WAIT_S, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("audit " + call.action() + " " + call.object() + ": interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("audit " + call.action() + " " + call.object() + ": not written: " + e, e);
        }
    }

    /**
     * At most {@code limit} entries of {@code namespace}'s chain (null: the cluster's) after seq {@code after}, in
     * order, within {@code filter}.
     */
    public List<AuditEntry> list(String namespace, long after, AuditStore.Filter filter, int limit) {
        String chain = chain(namespace);
        return store.read("list audit entries of " + (namespace == null ? "the cluster" : namespace),
                tx -> tx.audit().list(chain, after, filter, limit));
    }

    private static String chain(String namespace) {
        return namespace == null ? CLUSTER : namespace;
    }

    private void write() {
        var batch = new ArrayList<Pending>(BATCH);
        while (!closed || !queue.isEmpty()) {
            try {
                Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) continue;
                batch.add(first);
                queue.drainTo(batch, BATCH - 1);
                append(batch);
            } catch (InterruptedException e) {
                if (!closed) log.warn("audit writer interrupted while open");
            } finally {
                batch.clear();
            }
        }
    }

    /** Appends the batch in one transaction (one statement batch), retried on a concurrent append; completes each call's future. */
    private void append(List<Pending> batch) {
        RuntimeException last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            if (attempt > 1) heads.clear();
            try {
                record Appended(List<AuditEntry> entries, Map<String, AuditEntry> heads) {}
                Appended appended = store.update("append " + batch.size() + " audit entries", tx -> {
                    Map<String, AuditEntry> after = new HashMap<>(heads);
                    var out = new AuditEntry[batch.size()];
                    var rows = new ArrayList<AuditStore.Appended>(batch.size());
                    // Chain by chain in one order, so replicas appending to the same chains at once wait for each
                    // other (and retry on the conflict) instead of deadlocking.
                    Integer[] order = new Integer[batch.size()];
                    for (int i = 0; i < order.length; i++) order[i] = i;
                    Arrays.sort(order, Comparator.comparing(i -> chain(batch.get(i).call().namespace())));
                    for (int i : order) {
                        Call c = batch.get(i).call();
                        String chain = chain(c.namespace());
                        AuditEntry head = after.containsKey(chain) ? after.get(chain)
                                : tx.audit().last(chain).orElse(null);
                        long seq = head == null ? 1 : head.seq() + 1;
                        AuditEntry entry = new AuditEntry(seq, clock.instant(), c.tokenId(), c.namespace(),
                                c.action(), c.object(), c.status(), c.source(), null)
                                .chainedAfter(head == null ? AuditEntry.GENESIS : head.hash());
                        rows.add(new AuditStore.Appended(chain, entry));
                        after.put(chain, entry);
                        out[i] = entry;
                    }
                    tx.audit().append(rows);
                    return new Appended(List.of(out), after);
                });
                heads.putAll(appended.heads());
                for (int i = 0; i < batch.size(); i++) batch.get(i).done().complete(appended.entries().get(i));
                return;
            } catch (ApiException e) {
                if (e.code() != ErrorCode.CONFLICT) {
                    last = e;
                    break;
                }
                last = e; // another replica appended to the chain first: read its new head and try again
            } catch (RuntimeException e) {
                last = e;
                break;
            }
        }
        heads.clear();
        log.error("audit: {} entries not written: {}", batch.size(), last.getMessage());
        for (Pending p : batch) p.done().completeExceptionally(last);
    }

    /** Writes what is queued, then stops the writer; later {@link #record} calls fail. */
    @Override
    public void close() {
        closed = true;
        try {
            writer.join(TimeUnit.SECONDS.toMillis(WAIT_S));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
