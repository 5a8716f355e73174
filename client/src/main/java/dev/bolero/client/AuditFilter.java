package dev.bolero.client;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;

/**
 * Which audit entries to read ({@code GET …/audit}).
 *
 * @param since only entries from this time: RFC 3339 ({@code 2026-01-02T15:04:05Z}) or Unix seconds
 * @param until only entries before this time, written as {@code since}
 * @param action only entries of this operation id ({@code createMachine})
 */
public record AuditFilter(Optional<String> since, Optional<String> until, Optional<String> action) {
    public AuditFilter {
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(until, "until");
        Objects.requireNonNull(action, "action");
    }

    /** Every entry: what a verification reads. */
    public static AuditFilter all() {
        return new AuditFilter(Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** The query parameters of this filter, each with its leading {@code &}. */
    String query() {
        var q = new StringBuilder();
        since.ifPresent(s -> q.append("&since=").append(URLEncoder.encode(s, StandardCharsets.UTF_8)));
        until.ifPresent(s -> q.append("&until=").append(URLEncoder.encode(s, StandardCharsets.UTF_8)));
        action.ifPresent(s -> q.append("&action=").append(URLEncoder.encode(s, StandardCharsets.UTF_8)));
        return q.toString();
    }
}
