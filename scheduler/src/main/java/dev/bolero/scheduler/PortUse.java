package dev.bolero.scheduler;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Which node positions have each host port in use, as one bitset per port. A snapshot's instance is never changed; a
 * placer that remembers placements works on a {@link #copy()}, which clones only the bitsets of the ports it adds.
 */
final class PortUse {

    private final int words;
    private final Map<HostPort, long[]> byPort;
    /** The ports whose bitsets belong to this instance, so {@link #add} may change them in place. */
    private final Set<HostPort> owned;

    private PortUse(int words, Map<HostPort, long[]> byPort, Set<HostPort> owned) {
        this.words = words;
        this.byPort = byPort;
        this.owned = owned;
    }

    /** The ports in use on each of {@code views}, by position. */
    static PortUse of(NodeView[] views) {
        var use = new PortUse((views.length + 63) >>> 6, new HashMap<>(), new HashSet<>());
        for (int p = 0; p < views.length; p++) {
            use.add(p, views[p].ports());
        }
        return use;
    }

    /** A copy that {@link #add} can change without touching this one. */
    PortUse copy() {
        return new PortUse(words, new HashMap<>(byPort), new HashSet<>());
    }

    /** The positions where any of {@code ports} is in use, or null when there is none. */
    long[] taken(Set<HostPort> ports) {
        long[] union = null;
        for (HostPort port : ports) {
            long[] bits = byPort.get(port);
            if (bits == null) {
                continue;
            }
            if (union == null) {
                union = bits.clone();
            } else {
                for (int w = 0; w < words; w++) {
                    union[w] |= bits[w];
                }
            }
        }
        return union;
    }

    /** Marks {@code ports} in use at position {@code p}. */
    void add(int p, Set<HostPort> ports) {
        for (HostPort port : ports) {
            long[] bits = byPort.get(port);
            if (bits == null) {
                bits = new long[words];
                byPort.put(port, bits);
                owned.add(port);
            } else if (owned.add(port)) {
                bits = bits.clone();
                byPort.put(port, bits);
            }
            bits[p >>> 6] |= 1L << p;
        }
    }
}
