package dev.bolero.server.cluster;

import dev.bolero.server.store.TokenRow;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
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

    private record Entry(TokenRow row, Instant readAt) {}

    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
    /** Bumped by each invalidation, so a read that raced with a removal is not kept. */
    private final AtomicLong generation = new AtomicLong();
    private final Function<String, Optional<TokenRow>> lookup;
    private final Clock clock;
    /** Whether other servers share the store: kept credentials then go stale after {@link #TTL}. */
    private final boolean shared;

    /**
     * @param lookup the store's credential for a hash, read when the cache keeps none that is fresh
     * @param shared whether other servers may change the store's credentials (PostgreSQL replicas): kept ones are
     *     fresh for {@link #TTL} then; otherwise until {@link #invalidate}
     */
    TokenCache(Function<String, Optional<TokenRow>> lookup, Clock clock, boolean shared) {
        this.lookup = lookup;
        this.clock = clock;
        this.shared = shared;
    }

    /** The credential whose token hashes to {@code hash}, if any: the kept one while fresh, else the store's. */
    Optional<TokenRow> find(String hash) {
        Entry kept = entries.get(hash);
        Instant now = clock.instant();
        if (kept != null && (!shared || now.isBefore(kept.readAt().plus(TTL)))) return Optional.of(kept.row());
        long before = generation.get();
        Optional<TokenRow> found = lookup.apply(hash);
        if (found.isEmpty()) {
            entries.remove(hash);
            return found;
        }
        if (entries.size() >= MAX_ENTRIES) entries.clear();
        entries.put(hash, new Entry(found.get(), now));
        // A removal that committed during the lookup may have been read as present: forget it, as invalidate did.
        if (generation.get() != before) entries.remove(hash);
        return found;
    }

    /** Forgets every kept credential; call it after a transaction that removed or changed credentials commits. */
    void invalidate() {
        generation.incrementAndGet();
        entries.clear();
    }
}
