package dev.bolero.network;

import java.util.HashSet;
import java.util.List;

/**
 * Everything a node's internal DNS server answers, replaced whole by {@link InternalDns#update}: the namespaces that
 * may ask (by source address) and the running machines they may ask about, which include the namespaces' machines on
 * other nodes.
 *
 * @param namespaces who may ask, per namespace; a source in no namespace is refused
 * @param machines the running machines, one entry each
 * @throws IllegalArgumentException if a machine id appears twice or two namespaces share a name
 */
public record DnsSnapshot(List<DnsNamespace> namespaces, List<DnsMachine> machines) {
    /** No namespace and no machine. */
    public static final DnsSnapshot EMPTY = new DnsSnapshot(List.of(), List.of());

    public DnsSnapshot {
        namespaces = List.copyOf(namespaces);
        machines = List.copyOf(machines);
        var names = new HashSet<String>();
        namespaces.forEach(n -> {
            if (!names.add(n.namespace())) throw new IllegalArgumentException("namespace " + n.namespace() + " listed twice");
        });
        var ids = new HashSet<String>();
        machines.forEach(m -> {
            if (!ids.add(m.machineId())) throw new IllegalArgumentException("machine " + m.machineId() + " listed twice");
        });
    }
}
