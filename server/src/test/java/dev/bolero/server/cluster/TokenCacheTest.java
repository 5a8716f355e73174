package dev.bolero.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.api.wire.NamespaceSpec;
import dev.bolero.api.wire.TokenSpec;
import dev.bolero.server.PostgresCluster;
import dev.bolero.server.secrets.MasterKeys;
import dev.bolero.server.secrets.Secrets;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.TokenRow;
import dev.bolero.server.store.TokenScope;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link TokenCache}: credentials are read from the store at most once per {@link TokenCache#TTL} (once until an
 * invalidation on a store no other server shares); a revocation through the same server is seen at once, one through
 * another replica within the TTL.
 */
class TokenCacheTest {
    private static final TokenRow ROW = new TokenRow("ns-1", TokenScope.NAMESPACE, "alpha", null, null,
            Optional.empty());

    private final FakeClock clock = new FakeClock();
    private final Map<String, TokenRow> stored = new ConcurrentHashMap<>(Map.of("h1", ROW));
    private final AtomicInteger reads = new AtomicInteger();
    /** The hashes of each read, in order. */
    private final List<List<String>> lookups = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final TokenCache cache = new TokenCache(this::lookup, clock, true);

    private Map<String, TokenRow> lookup(java.util.Collection<String> hashes) {
        reads.incrementAndGet();
        lookups.add(List.copyOf(hashes));
        var found = new java.util.HashMap<String, TokenRow>();
        for (String h : hashes) if (stored.containsKey(h)) found.put(h, stored.get(h));
        return found;
    }

    @Test
    void aCredentialIsReadOnceWhileFreshAndAgainOnceItsTtlIsOver() {
        assertThat(cache.find("h1")).contains(ROW);
        clock.advance(TokenCache.TTL.minusMillis(1));
        assertThat(cache.find("h1")).contains(ROW);
        assertThat(reads).hasValue(1);
        clock.advance(Duration.ofMillis(1));
        assertThat(cache.find("h1")).contains(ROW);
        assertThat(reads).hasValue(2);
    }

    @Test
    void aStaleCredentialIsReadAgainWithTheKeptOnesPastHalfTheirTtlInOneReadAndRevocationsStillShowWithinIt() {
        stored.put("h2", ROW);
        stored.put("h3", ROW);
        cache.find("h1");
        clock.advance(TokenCache.TTL.dividedBy(2).minusMillis(1));
        cache.find("h2");
        clock.advance(Duration.ofMillis(2));
        cache.find("h3");
        clock.advance(TokenCache.TTL.dividedBy(2).minusMillis(1));
        assertThat(reads).hasValue(3);
        stored.remove("h2");

        // h1 is past its TTL: read again, with h2 (past half its TTL), not with h3 (not yet half).
        assertThat(cache.find("h1")).contains(ROW);
        assertThat(lookups.getLast()).containsExactlyInAnyOrder("h1", "h2");
        assertThat(cache.find("h3")).contains(ROW);
        assertThat(reads).hasValue(4);
        assertThat(cache.find("h2")).as("revoked meanwhile: h1's read found it gone").isEmpty();

        // Each credential is trusted at most the TTL after the read that last found it.
        stored.remove("h1");
        clock.advance(TokenCache.TTL.minusMillis(1));
        assertThat(cache.find("h1")).contains(ROW);
        clock.advance(Duration.ofMillis(1));
        assertThat(cache.find("h1")).isEmpty();
    }

    @Test
    void aCredentialRemovedAndInvalidatedIsRefusedAtOnce() {
        assertThat(cache.find("h1")).contains(ROW);
        stored.remove("h1");
        cache.invalidate();
        assertThat(cache.find("h1")).isEmpty();
    }

    @Test
    void aCredentialRemovedWithoutInvalidationIsRefusedOnceItsTtlIsOver() {
        assertThat(cache.find("h1")).contains(ROW);
        stored.remove("h1");
        clock.advance(TokenCache.TTL.minusMillis(1));
        assertThat(cache.find("h1")).as("within the TTL").contains(ROW);
        clock.advance(Duration.ofMillis(1));
        assertThat(cache.find("h1")).isEmpty();
    }

    @Test
    void onAStoreNoOtherServerSharesACredentialIsReadOnceAndKeptUntilAnInvalidation() {
        var alone = new TokenCache(this::lookup, clock, false);
        assertThat(alone.find("h1")).contains(ROW);
        clock.advance(TokenCache.TTL.multipliedBy(100));
        assertThat(alone.find("h1")).contains(ROW);
        assertThat(reads).hasValue(1);

        stored.remove("h1");
        alone.invalidate();
        assertThat(alone.find("h1")).isEmpty();
    }

    @Test
    void anUnknownHashIsNotKeptSoACredentialMintedLaterWorksAtOnce() {
        assertThat(cache.find("h2")).isEmpty();
        stored.put("h2", ROW);
        assertThat(cache.find("h2")).contains(ROW);
    }

    @Test
    void aReadThatRacedWithARevocationIsNotKept() {
        var racing = new TokenCache[1];
        racing[0] = new TokenCache(hashes -> {
            // The rows were read just before the revocation committed and invalidated the cache.
            var read = lookup(hashes);
            hashes.forEach(stored::remove);
            racing[0].invalidate();
            return read;
        }, clock, true);
        assertThat(racing[0].find("h1")).as("the answer of the raced read").contains(ROW);
        assertThat(racing[0].find("h1")).isEmpty();
    }

    @Test
    void onPostgresATokenRevokedOnOneReplicaIsRefusedThereAtOnceAndOnTheOtherWithinTheTtl() throws Exception {
        String why = PostgresCluster.unavailable();
        if (why != null) System.out.println("skipping PostgreSQL token cache test: " + why);
        assumeTrue(why == null, why);
        try (var postgres = new PostgresCluster()) {
            String url = postgres.newDatabase();
            try (var oneStore = ServerStore.postgres(url); var twoStore = ServerStore.postgres(url);
                 var one = cluster(oneStore); var two = cluster(twoStore)) {
                one.plane().createNamespace(new NamespaceSpec("alpha"));
                var minted = one.plane().createToken("alpha", new TokenSpec(null, null, null));
                assertThat(two.authenticate(minted.token())).as("minted on the other replica").isPresent();
                assertThat(one.authenticate(minted.token())).isPresent();

                one.plane().revokeToken("alpha", minted.id());

                assertThat(one.authenticate(minted.token())).as("on the revoking replica").isEmpty();
                assertThat(two.authenticate(minted.token())).as("on the other replica within the TTL").isPresent();
                clock.advance(TokenCache.TTL);
                assertThat(two.authenticate(minted.token())).as("on the other replica after the TTL").isEmpty();
            }
        }
    }

    private Cluster cluster(ServerStore store) {
        return Cluster.start(store, clock, new NodeRegistry.Timing(Duration.ofSeconds(5), Duration.ofSeconds(30),
                Duration.ofSeconds(20)), Duration.ofHours(1), Duration.ofSeconds(2),
                new Secrets(store, clock, MasterKeys.of(MasterKeys.generate(), List.of())), Optional.empty());
    }
}
