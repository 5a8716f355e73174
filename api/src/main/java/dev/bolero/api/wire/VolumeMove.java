package dev.bolero.api.wire;

import com.fasterxml.jackson.annotation.JsonValue;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A volume's move from one node to another: a verified block copy, its machine (if attached) stopped only for the
 * final pass and started on the target after it.
 *
 * @param id the move's id
 * @param volume the volume's name
 * @param fromNode the node it leaves
 * @param toNode the node it goes to
 * @param machineId the machine attached to it when the move began, or null
 * @param state where the move is
 * @param error why it failed, or null
 * @param steps what it did, oldest first
 */
public record VolumeMove(String id, String volume, String fromNode, String toNode, String machineId, State state,
                         String error, List<Step> steps, Instant createdAt, Instant updatedAt) {
    public VolumeMove {
        steps = steps == null ? List.of() : List.copyOf(steps);
    }

    /** Where a move is. */
    public enum State {
        /** Copying while the machine runs (or while the volume is detached). */
        COPYING,
        /** The machine stopped: copying the blocks that changed, then verifying. */
        FINAL_PASS,
        /**
         * The volume lives on the target and its old copy goes; its machine is being placed there (and started, when
         * the move stopped it).
         */
        FOLLOWING,
        /** The volume lives on the target, and its machine, if any, went with it (or could not: see the steps). */
        DONE,
        /** The volume stays on its node, usable; the target's partial copy goes. */
        FAILED;

        /** Whether the move is over. */
        public boolean ended() {
            return this == DONE || this == FAILED;
        }

        @JsonValue
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The state whose {@link #wireName()} is {@code wire}. */
        public static State parse(String wire) {
            return valueOf(wire.toUpperCase(Locale.ROOT));
        }
    }

    /** One thing the move did, for people ({@code pass 1: 212 blocks, 198.0 MiB copied while the machine runs}). */
    public record Step(Instant at, String message) {
        public Step {
            Objects.requireNonNull(at, "volume move step: at");
            Objects.requireNonNull(message, "volume move step: message");
        }
    }
}
