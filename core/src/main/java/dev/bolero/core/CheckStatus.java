package dev.bolero.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.time.Instant;

/**
 * What a machine's health check last found, as both APIs show it in the machine's {@code checks}.
 *
 * @param name the check's name in {@code config.checks}
 * @param status {@code passing} or {@code critical} (also before the first run: a check not yet passed is not healthy)
 * @param output what the last run saw (an HTTP status and the start of the body, a connect error, a command's output),
 *     at most {@link #MAX_OUTPUT} characters
 * @param updatedAt when the status last changed
 */
public record CheckStatus(String name, Status status, String output, Instant updatedAt) {
    /** The longest output kept. */
    public static final int MAX_OUTPUT = 512;

    public CheckStatus {
        output = output == null ? "" : output.length() > MAX_OUTPUT ? output.substring(0, MAX_OUTPUT) : output;
    }

    /** A check's health. */
    public enum Status {
        PASSING, CRITICAL;

        @JsonValue
        public String wireName() {
            return WireNames.of(this);
        }

        @JsonCreator
        public static Status parse(String wire) {
            return WireNames.parse(Status.class, "check status", wire);
        }
    }
}
