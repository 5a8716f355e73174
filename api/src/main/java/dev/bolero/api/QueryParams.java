package dev.bolero.api;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * How the node and server APIs read their query parameters, so that both accept and refuse the same values with the
 * same messages.
 */
public final class QueryParams {
    private QueryParams() {}

    /**
     * The whole number {@code value} of query parameter {@code name}, or {@code dflt} when it is absent (null).
     *
     * @throws ApiException (invalid argument) if it is not a whole number from {@code min} to {@code max}
     */
    public static int wholeNumber(String name, String value, int dflt, int min, int max) {
        if (value == null) return dflt;
        try {
            int n = Integer.parseInt(value);
            if (n >= min && n <= max) return n;
        } catch (NumberFormatException e) {
            // the error below names the value
        }
        throw ApiException.invalid(name + " must be a whole number from " + min + " to " + max + ", got '" + value + "'");
    }

    /**
     * The boolean {@code value} of query parameter {@code name}: {@code true} or {@code false}, false when absent
     * (null).
     *
     * @throws ApiException (invalid argument) for any other value ({@code 1}, {@code yes}, {@code TRUE})
     */
    public static boolean flag(String name, String value) {
        if (value == null) return false;
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw ApiException.invalid(name + " must be true or false, got '" + value + "'");
        };
    }

    /**
     * The time {@code value} of query parameter {@code name}: an RFC 3339 instant or Unix epoch seconds; empty when
     * absent (null).
     *
     * @throws ApiException (invalid argument) for anything else
     */
    public static Optional<Instant> instant(String name, String value) {
        if (value == null) return Optional.empty();
        try {
            if (value.matches("[0-9]{1,12}")) return Optional.of(Instant.ofEpochSecond(Long.parseLong(value)));
            return Optional.of(OffsetDateTime.parse(value).toInstant());
        } catch (DateTimeParseException e) {
            throw ApiException.invalid(name + " must be an RFC 3339 time (2026-01-02T15:04:05Z) or Unix seconds, got '"
                    + value + "'");
        }
    }
}
