package dev.bolero.api;

/**
 * A machine's network options.
 *
 * @param egress whether the machine may open connections beyond its namespace, through NAT to the node's uplink
 *     (default true); without it the machine still reaches its namespace's machines and answers on its published
 *     ports
 */
public record NetworkOptions(Boolean egress) {

    /** This request with defaults filled in. */
    public NetworkOptions withDefaults() {
        return new NetworkOptions(egress == null || egress);
    }

    /** Egress on. */
    public static NetworkOptions defaults() {
        return new NetworkOptions(true);
    }

    /** Whether egress is on (a null {@code egress} means on). */
    public boolean egressAllowed() {
        return egress == null || egress;
    }
}
