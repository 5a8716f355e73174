package dev.bolero.client;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Which of a machine's log lines to read ({@code GET …/machines/{id}/logs}).
 *
 * @param follow keep reading new lines while the machine runs
 * @param tail only the last N lines (before following)
 * @param since only lines from this time on: RFC 3339 ({@code 2026-01-02T15:04:05Z}) or Unix seconds
 * @param timestamps prefix each line with its time and stream
 * @throws IllegalArgumentException when {@code tail} is negative
 */
public record LogOptions(boolean follow, OptionalInt tail, Optional<String> since, boolean timestamps) {
    public LogOptions {
        Objects.requireNonNull(tail, "tail");
        Objects.requireNonNull(since, "since");
        if (tail.isPresent() && tail.getAsInt() < 0) throw new IllegalArgumentException("tail must be 0 or more");
    }

    /** Every line so far, without timestamps. */
    public static LogOptions all() {
        return new LogOptions(false, OptionalInt.empty(), Optional.empty(), false);
    }

    /** The query string of these options, with its {@code ?}, or empty. */
    String query() {
        var q = new StringBuilder();
        if (follow) q.append("&follow=true");
        tail.ifPresent(n -> q.append("&tail=").append(n));
        since.ifPresent(s -> q.append("&since=").append(java.net.URLEncoder.encode(s,
                java.nio.charset.StandardCharsets.UTF_8)));
        if (timestamps) q.append("&timestamps=true");
        return q.isEmpty() ? "" : "?" + q.substring(1);
    }
}
