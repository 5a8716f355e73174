package dev.bolero.api.wire;

import com.fasterxml.jackson.annotation.JsonValue;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;

/**
 * One thing a deployment did, in its history ({@link Deployment#steps()}), recorded by the control plane as it does
 * it.
 *
 * @param at when the control plane did it
 * @param machineId the machine it concerns: the one replaced, removed or healthy, or the new machine whose failure
 *     turned the deployment back ({@link Kind#ROLLING_BACK}) or ended it ({@link Kind#FAILED}); null for the
 *     deployment as a whole
 * @param message what it did, for people ({@code replacing machine 9f2c… of release 1 with one of release 2})
 */
public record DeployStep(Instant at, Kind kind, String machineId, String message) {
    public DeployStep {
        Objects.requireNonNull(at, "deploy step: at");
        Objects.requireNonNull(kind, "deploy step: kind");
        Objects.requireNonNull(message, "deploy step: message");
    }

    /** What a step did. */
    public enum Kind {
        /** The deployment began: the fleet's config is the target release. */
        STARTED,
        /** Machines of the release being reached are created (a canary, a blue-green set, or missing ones). */
        CREATING,
        /** An old machine is deleted and one of the release being reached created in its place. */
        REPLACING,
        /** An old machine is deleted without a replacement (the fleet is above its count, or a new set took over). */
        REMOVING,
        /** A new machine is running with every check passing. */
        HEALTHY,
        /** A new machine failed: the fleet goes back to the release it had before. */
        ROLLING_BACK,
        /** Every machine runs the target release and is healthy ({@link DeployStatus#SUCCEEDED}). */
        SUCCEEDED,
        /** Back on the former release ({@link DeployStatus#ROLLED_BACK}). */
        ROLLED_BACK,
        /** The deployment ended without a healthy fleet ({@link DeployStatus#FAILED}). */
        FAILED;

        @JsonValue
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The kind whose {@link #wireName()} is {@code wire}. */
        public static Kind parse(String wire) {
            return valueOf(wire.toUpperCase(Locale.ROOT));
        }
    }
}
