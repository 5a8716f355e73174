package dev.bolero.agent.logs;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Which workload log lines to read and how to print them.
 *
 * @param tail only the last N lines (before following); empty: all
 * @param since only lines stamped at or after this instant; empty: all. Ignored for the console, whose lines carry
 *     no stamp
 * @param timestamps prefix each workload line with its RFC 3339 time and stream ({@code stdout}/{@code stderr})
 */
public record LogQuery(OptionalInt tail, Optional<Instant> since, boolean timestamps) {
    public LogQuery {
        Objects.requireNonNull(tail, "tail");
        Objects.requireNonNull(since, "since");
        if (tail.isPresent() && tail.getAsInt() < 0) throw new IllegalArgumentException("tail must not be negative");
    }

    /** Every line, text only. */
    public static LogQuery all() {
        return new LogQuery(OptionalInt.empty(), Optional.empty(), false);
    }
}
