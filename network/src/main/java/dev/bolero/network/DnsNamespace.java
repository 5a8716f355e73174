package dev.bolero.network;

import dev.bolero.api.wire.Names;
import java.util.List;

/**
 * Who asks in a namespace's name: a query whose source address lies in one of {@code sources} sees {@code namespace}'s
 * names and no other namespace's. On a node the sources are the namespace's subnets there (guests cannot forge their
 * source address: the bridge rules drop it).
 *
 * @param namespace the namespace
 * @param sources IPv4 CIDR blocks
 */
public record DnsNamespace(String namespace, List<String> sources) {
    public DnsNamespace {
        Names.check("namespace", namespace);
        sources = List.copyOf(sources);
        sources.forEach(s -> Ipv4.Cidr.parse(s, "DNS source"));
    }
}
