package dev.bolero.server.http;

import dev.bolero.server.ServerConfig;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One token bucket per token id (Bucket4j), refilled at the configured rate: a token that spends its burst waits for
 * the refill. Buckets are made at a token's first request; their number is bounded by the stored tokens. Thread-safe.
 */
final class RateLimits {
    private final ServerConfig.RateLimit limit;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

    RateLimits(ServerConfig.RateLimit limit) {
        this.limit = limit;
    }

    /**
     * Takes one request from token {@code tokenId}'s bucket.
     *
     * @return empty when the request may go on; else the whole seconds (at least 1) until it may be retried
     */
    OptionalLong take(String tokenId) {
        if (!limit.limited()) return OptionalLong.empty();
        Bucket bucket = buckets.computeIfAbsent(tokenId, id -> Bucket.builder()
                .addLimit(Bandwidth.builder().capacity(limit.burst())
                        .refillGreedy(limit.perSecond(), Duration.ofSeconds(1)).build())
                .build());
        var probe = bucket.tryConsumeAndReturnRemaining(1);
        if (probe.isConsumed()) return OptionalLong.empty();
        return OptionalLong.of(Math.max(1, (probe.getNanosToWaitForRefill() + 999_999_999L) / 1_000_000_000L));
    }
}
