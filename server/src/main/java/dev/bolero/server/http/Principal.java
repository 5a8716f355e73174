package dev.bolero.server.http;

import dev.bolero.api.wire.TokenRole;

/** Who a bearer token belongs to. */
sealed interface Principal {
    /** The cluster's administrator: sees every namespace and the nodes. */
    record Admin() implements Principal {}

    /** A namespace's API token: sees only that namespace; an {@code admin} one also manages its tokens. */
    record Tenant(String namespace, TokenRole role) implements Principal {}

    /** The node join token: may only join. */
    record Joiner() implements Principal {}

    /** A joined node's credential: may only poll and heartbeat as that node. */
    record Node(String nodeId) implements Principal {}
}
