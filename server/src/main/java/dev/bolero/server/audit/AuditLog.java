package dev.bolero.server.audit;

import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import dev.bolero.api.wire.AuditEntry;
import dev.bolero.server.store.AuditStore;
import dev.bolero.server.store.Later;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.Tx;
import java.time.Clock;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
 * batch rather than one per call. A write may instead append its call in its own transaction ({@link #appendIn}).
 * Appenders, also other replicas' on a shared PostgreSQL store, take turns with each other and with write transactions
 * ({@link Tx#excludeWrites}).
 * Thread-safe.
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

    /**
     * Appends the batch in one transaction (one statement batch); completes each call's future. A conflict (a replica
     * of an earlier version appending without the chains' lock) is retried on the new head.
     */
    private void append(List<Pending> batch) {
        var calls = batch.stream().map(Pending::call).toList();
        RuntimeException last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                List<AuditEntry> entries = store.update("append " + batch.size() + " audit entries",
                        tx -> appendIn(tx, calls, clock));
                for (int i = 0; i < batch.size(); i++) batch.get(i).done().complete(entries.get(i));
                return;
            } catch (ApiException e) {
                last = e;
                if (e.code() != ErrorCode.CONFLICT) break;
            } catch (RuntimeException e) {
                last = e;
                break;
            }
        }
        log.error("audit: {} entries not written: {}", batch.size(), last.getMessage());
        for (Pending p : batch) p.done().completeExceptionally(last);
    }

    /**
     * Appends {@code calls} to their chains in {@code tx}, entries timed by {@code clock}, and returns the entries in
     * the calls' order. Another write may append the calls it makes in its own transaction this way (a machine's
     * create beside its row), so that the entry is committed exactly when the change is: then no machine exists
     * without its create's entry, even after a crash. The chains' heads are read as {@link #heads} reads them.
     */
    public static List<AuditEntry> appendIn(Tx tx, List<Call> calls, Clock clock) throws SQLException {
        var namespaces = new HashSet<String>();
        for (Call c : calls) namespaces.add(c.namespace());
        return appendIn(tx, calls, clock, heads(tx, namespaces));
    }

    /**
     * Queues the read of the heads of the chains of {@code namespaces} (null: the cluster's own) in {@code tx}, for
     * {@link #appendIn(Tx, List, Clock, Later)}: a write may queue it with its other first reads, so that it costs no
     * round trip of its own. Appenders exclude each other for the rest of {@code tx}, as write transactions do ({@link
     * Tx#excludeWrites}: a write transaction, such as a placement, holds that lock already, its allocation queued
     * before this read), and the heads are read after that, so concurrent appenders, also other replicas', wait for
     * each other rather than conflict.
     */
    public static Later<Map<String, Optional<AuditEntry>>> heads(Tx tx, Collection<String> namespaces)
            throws SQLException {
        tx.excludeWrites();
        var reads = new HashMap<String, Later<Optional<AuditEntry>>>();
        for (String namespace : namespaces) {
            String chain = chain(namespace);
            if (!reads.containsKey(chain)) reads.put(chain, tx.audit().last(chain));
        }
        return () -> {
            var heads = new HashMap<String, Optional<AuditEntry>>();
            for (var read : reads.entrySet()) heads.put(read.getKey(), read.getValue().get());
            return heads;
        };
    }

    /**
     * {@link #appendIn(Tx, List, Clock)} after {@code heads}, which {@link #heads} read in {@code tx} for the
     * namespaces of {@code calls} at least.
     *
     * @throws IllegalArgumentException when a call's chain is not among {@code heads}
     */
    public static List<AuditEntry> appendIn(Tx tx, List<Call> calls, Clock clock,
                                            Later<Map<String, Optional<AuditEntry>>> heads) throws SQLException {
        var last = new HashMap<String, AuditEntry>();
        var read = heads.get();
        var entries = new ArrayList<AuditEntry>(calls.size());
        var rows = new ArrayList<AuditStore.Appended>(calls.size());
        for (Call c : calls) {
            String chain = chain(c.namespace());
            AuditEntry head = last.containsKey(chain) ? last.get(chain) : headOf(read, chain);
            AuditEntry entry = new AuditEntry(head == null ? 1 : head.seq() + 1, clock.instant(), c.tokenId(),
                    c.namespace(), c.action(), c.object(), c.status(), c.source(), null)
                    .chainedAfter(head == null ? AuditEntry.GENESIS : head.hash());
            rows.add(new AuditStore.Appended(chain, entry));
            last.put(chain, entry);
            entries.add(entry);
        }
        tx.audit().append(rows);
        return entries;
    }

    /** The head {@code heads} read of {@code chain}; null for a chain without entries. */
    private static AuditEntry headOf(Map<String, Optional<AuditEntry>> heads, String chain) {
        var head = heads.get(chain);
        if (head == null) throw new IllegalArgumentException("append to audit chain '" + chain + "': its head not read");
        return head.orElse(null);
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
