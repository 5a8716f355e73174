package dev.bolero.api.wire;

/**
 * A target node's account of one pass of a volume move ({@code POST /v1/nodes/{id}/volume-moves/{move}}).
 *
 * @param pass the pass it applied
 * @param blocks the blocks the pass carried (changed since the pass before)
 * @param bytes the bytes of data they held (blocks of zeros carry none)
 * @param digest the copy's digest after the pass (SHA-256 of its blocks' hashes), equal to the source's; null when
 *     the pass failed
 * @param error why the pass failed (the copy is then not the volume's); null when it was verified
 */
public record VolumeMoveReport(int pass, long blocks, long bytes, String digest, String error) {
    /** Whether the copy matched the source's digest after the pass. */
    public boolean verified() {
        return error == null && digest != null;
    }
}
