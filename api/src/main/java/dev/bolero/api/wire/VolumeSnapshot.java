package dev.bolero.api.wire;

import com.fasterxml.jackson.annotation.JsonValue;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * A snapshot of a volume: a copy of its data taken on its volume's node ({@code nodeId}), then copied block by block
 * to another node ({@code copies}) and verified there, so that it outlives the loss of its volume's node. It can seed a
 * new volume ({@link VolumeSpec#snapshot()}) on its node, or on a node holding a verified copy when its node is down;
 * deleting it removes every copy; it goes when its volume is deleted.
 *
 * @param id its id, unique in the cluster
 * @param volume the name of the volume it was taken of
 * @param sizeGb the volume's size when it was taken
 * @param nodeId the node it was taken on (its volume's at the time)
 * @param copies its copies on other nodes; empty when the cluster had no other node to copy it to
 */
public record VolumeSnapshot(String id, String volume, int sizeGb, String nodeId, Instant createdAt,
                             List<Copy> copies) {
    public VolumeSnapshot {
        copies = copies == null ? List.of() : List.copyOf(copies);
    }

    /**
     * A snapshot's copy on another node.
     *
     * @param digest when verified: the SHA-256 of its blocks' SHA-256 hashes (the volume move's block digest), which the
     *     node holding it computed from what it wrote and matched against its source's
     * @param error why the last pull failed, or null
     */
    public record Copy(String nodeId, State state, String digest, String error) {}

    /** Where a copy is. */
    public enum State {
        /** Its node pulls it (again, after a failed pull). */
        COPYING,
        /** Its node holds it, verified against its source's digest. */
        VERIFIED,
        /** Every pull tried failed ({@link Copy#error()} says why); it is not retried. */
        FAILED;

        @JsonValue
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
