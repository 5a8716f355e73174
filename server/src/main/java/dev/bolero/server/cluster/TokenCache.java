package dev.bolero.server.cluster;

import dev.bolero.server.store.TokenRow;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * The credentials found by their token's hash, kept for {@link #TTL} so that a request's authentication does not read
 * the store each time.
 *
 * <p>Contract: a credential removed through this server ({@link #invalidate()} after the removal commits) is refused
 * by it from then on, at once; one removed through another server sharing the store (PostgreSQL replicas) is refused
 * here at most {@link #TTL} after the removal committed. A store no other server shares (SQLite) changes only through
 * this one, so there a credential is kept until an invalidation, however long. Unknown hashes are not kept, so a
 * credential minted on another server works here at once. A credential's expiry is in its row and is checked on every
 * request, so caching does not lengthen it. At most {@link #MAX_ENTRIES} credentials are kept; past that the cache
 * starts over empty.
 */
final class TokenCache {
    /** How long a credential read from the store is trusted: the bound on seeing another server's revocation. */
    static final Duration TTL = Duration.ofSeconds(5);
    static final int MAX_ENTRIES = 100_000;
    /** At most this many credentials are read again in one statement. */
    static final int REFRESH_BATCH = 1_000;

    private record Entry(TokenRow row, Instant readAt) {}

    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
    /** Bumped by each invalidation, so a read that raced with a removal is not kept. */
    private final AtomicLong generation = new AtomicLong();
    /** Held by the one request reading kept credentials again; others read their own alone meanwhile. */
    private final ReentrantLock refreshing = new ReentrantLock();
    private final Function<Collection<String>, Map<String, TokenRow>> lookup;
    private final Clock clock;
    /** Whether other servers share the store: kept credentials then go stale after {@link #TTL}. */
    private final boolean shared;

    /**
     * @param lookup the store's credentials for some hashes, by hash (hashes with none left out), read when the cache
     *     keeps none that is fresh
     * @param shared whether other servers may change the store's credentials (PostgreSQL replicas): kept ones are
     *     fresh for {@link #TTL} then; otherwise until {@link #invalidate}
     */
    TokenCache(Function<Collection<String>, Map<String, TokenRow>> lookup, Clock clock, boolean shared) {
        this.lookup = lookup;
        this.clock = clock;
        this.shared = shared;
    }

    /**
     * The credential whose token hashes to {@code hash}, if any: the kept one while fresh, else the store's. A kept one
     * past its {@link #TTL} is read again together with every other kept one past half of it (up to
     * {@value #REFRESH_BATCH}), in one read: a thousand nodes polling with their own credentials cost one read every
     * few seconds, not one per node each {@link #TTL}.
     */
    Optional<TokenRow> find(String hash) {
        Entry kept = entries.get(hash);
        Instant now = clock.instant();
        if (kept != null && (!shared || now.isBefore(kept.readAt().plus(TTL)))) return Optional.of(kept.row());
        if (kept != null && refreshing.tryLock()) {
            try {
                return read(refreshWith(hash, now), now).get(hash);
            } finally {
                refreshing.unlock();
            }
        }
        return read(List.of(hash), now).get(hash);
    }

    /** {@code hash} and the kept credentials past half their time, at most {@value #REFRESH_BATCH} in all. */
    private List<String> refreshWith(String hash, Instant now) {
        var hashes = new ArrayList<String>();
        hashes.add(hash);
        Instant halfway = now.minus(TTL.dividedBy(2));
        for (var e : entries.entrySet()) {
            if (hashes.size() >= REFRESH_BATCH) break;
            if (!e.getKey().equals(hash) && e.getValue().readAt().isBefore(halfway)) hashes.add(e.getKey());
        }
        return hashes;
    }

    /**
     * Reads {@code hashes} from the store and keeps what it found as read at {@code now}, forgetting those it did not;
     * each one's answer, by hash.
     */
    private Map<String, Optional<TokenRow>> read(List<String> hashes, Instant now) {
        long before = generation.get();
        Map<String, TokenRow> found = lookup.apply(hashes);
        if (entries.size() + hashes.size() > MAX_ENTRIES) entries.clear();
        var answers = new HashMap<String, Optional<TokenRow>>();
        for (String h : hashes) {
            TokenRow row = found.get(h);
            answers.put(h, Optional.ofNullable(row));
            if (row == null) {
                entries.remove(h);
            } else {
                entries.put(h, new Entry(row, now));
            }
        }
        // A removal that committed during the lookup may have been read as present: forget it, as invalidate did.
        if (generation.get() != before) hashes.forEach(entries::remove);
        return answers;
    }

    /** Forgets every kept credential; call it after a transaction that removed or changed credentials commits. */
    void invalidate() {
        generation.incrementAndGet();
        entries.clear();
    }
}
