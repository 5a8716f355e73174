package dev.bolero.server.store;

import java.util.Locale;

/** What a stored credential may do; the store keeps {@link #wireName()}. */
public enum TokenScope {
    /** The cluster's administrator. */
    ADMIN,
    /** The node join token: may only join. */
    JOIN,
    /** A namespace's API token (its role says whether it may manage the namespace's tokens). */
    NAMESPACE,
    /** A joined node's credential. */
    NODE;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalStateException for a name no scope has (the store's check constraint forbids it) */
    static TokenScope parse(String wireName) {
        for (TokenScope s : values()) if (s.wireName().equals(wireName)) return s;
        throw new IllegalStateException("a stored token has the unknown scope '" + wireName + "'");
    }
}
