package dev.bolero.network;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Renders the complete nftables ruleset Bolero owns, as one nftables transaction that replaces (or, with no
 * namespaces, removes) the {@code inet} and {@code bridge} tables named in the config, and nothing else.
 *
 * <p>What the rules enforce:
 * <ul>
 *   <li>bridge family, on every port named like a tap: a frame passes only if its (port, source MAC, source IPv4)
 *       or, for ARP, (port, source MAC, sender MAC, sender IPv4) is the machine's own; everything else (other
 *       addresses, IPv6, other ethertypes) is dropped. This stops a guest from taking another guest's address.
 *   <li>inet guard (prerouting): a machine opens at most {@link NetworkConfig#maxConnectionsPerMachine()} connections
 *       (conntrack entries, counted per source address, which the bridge rules make the machine's own) through the
 *       node at once; new ones beyond it are dropped, so one guest cannot exhaust the connection table for others.
 *       The counts live in a dynamic set that starts empty whenever the ruleset is rewritten (a machine attached or
 *       detached): the limit then applies to the flows opened since, and conntrack's own timeouts end the older ones.
 *   <li>inet input: nothing new from a Bolero bridge reaches the host, only replies to the host's own connections.
 *   <li>inet forward: nothing crosses from one Bolero bridge to another; from outside, only published (DNAT'ed)
 *       connections reach guests; machines without egress cannot leave their bridge.
 *   <li>inet nat: published ports are DNAT'ed on the publish address (prerouting for remote clients, output for
 *       clients on the host); each subnet is masqueraded when leaving through anything but its own bridge.
 * </ul>
 * Rules only compare devices in the forward chain with another device of the same kind, so they hold whether or not
 * {@code br_netfilter} also shows bridged traffic to the inet hooks.
 *
 * <p>With a {@link PrivateNetwork}, for its WireGuard link:
 * <ul>
 *   <li>inet forward: a packet from the link reaches a bridge only if its source address is in the namespace of the
 *       bridge's subnet ({@link PrivateAddressing#namespaceOf}); a packet from a bridge enters the link only if its
 *       destination is in the bridge's namespace; every other packet from or to the link is dropped. TCP SYNs into
 *       the link have their MSS clamped to the link's MTU, so guests with a 1500-byte MTU need no path MTU discovery.
 *   <li>inet input: nothing new from the link reaches the host; guests may query the internal DNS server on their
 *       gateway address ({@link PrivateNetwork#dnsPort()}, UDP and TCP).
 *   <li>inet nat: nothing entering the link is masqueraded, so a peer sees (and checks) the guest's own address.
 *   <li>gateways (addresses of the plan's infrastructure range, {@link PrivateAddressing#infrastructureBlock}) reach
 *       a machine through the link on its {@link MachineAllocation#gatewayPorts()} over TCP, whatever its namespace,
 *       and nothing else; a machine opens nothing to a gateway (only replies go back). These rules come before the
 *       namespace rules, which would otherwise take a gateway's address for one of a namespace.
 * </ul>
 */
final class Ruleset {
    private Ruleset() {}

    static String render(NetworkConfig config, List<NamespaceAllocation> namespaces, List<MachineAllocation> machines) {
        var t = config.table();
        var out = new StringBuilder();
        // Create-if-missing then delete makes the delete always valid; the whole file is one atomic transaction.
        out.append("table inet ").append(t).append(" {}\n");
        out.append("delete table inet ").append(t).append('\n');
        out.append("table bridge ").append(t).append(" {}\n");
        out.append("delete table bridge ").append(t).append('\n');
        if (namespaces.isEmpty()) return out.toString();

        var bridges = namespaces.stream().map(n -> quote(n.bridge())).collect(Collectors.joining(", "));
        var isolated = machines.stream().filter(m -> !m.egress()).map(MachineAllocation::ip).collect(Collectors.joining(", "));

        out.append("table inet ").append(t).append(" {\n");
        out.append("  set bridges { type ifname;").append(elements(bridges)).append(" }\n");
        out.append("  set isolated { type ipv4_addr;").append(elements(isolated)).append(" }\n");
        out.append("  set guest_flows { type ipv4_addr; size 65535; flags dynamic; }\n");
        if (config.privateNetwork().isPresent()) {
            var open = machines.stream().flatMap(m -> m.gatewayPorts().stream().map(port -> m.ip() + " . " + port))
                    .collect(Collectors.joining(", "));
            out.append("  set gateway_ports { type ipv4_addr . inet_service;").append(elements(open)).append(" }\n");
        }
        var link = config.privateNetwork().map(p -> quote(p.link()));
        out.append("  chain guard {\n");
        out.append("    type filter hook prerouting priority filter; policy accept;\n");
        out.append("    iifname @bridges ct state new add @guest_flows { ip saddr ct count over ")
                .append(config.maxConnectionsPerMachine()).append(" } drop\n");
        out.append("  }\n");
        out.append("  chain input {\n");
        out.append("    type filter hook input priority filter; policy accept;\n");
        out.append("    iifname @bridges ct state established,related accept\n");
        config.privateNetwork().ifPresent(p -> {
            for (var n : namespaces) {
                var subnet = Ipv4.Cidr.parse(n.subnet(), "subnet");
                out.append("    iifname ").append(quote(n.bridge())).append(" ip daddr ").append(Ipv4.format(subnet.host(1)))
                        .append(" meta l4proto { tcp, udp } th dport ").append(p.dnsPort()).append(" accept\n");
            }
            out.append("    iifname ").append(quote(p.link())).append(" ct state established,related accept\n");
            out.append("    iifname ").append(quote(p.link())).append(" drop\n");
        });
        out.append("    iifname @bridges drop\n");
        out.append("  }\n");
        out.append("  chain forward {\n");
        out.append("    type filter hook forward priority filter; policy accept;\n");
        link.ifPresent(l -> out.append("    oifname ").append(l).append(" tcp flags syn tcp option maxseg size set rt mtu\n"));
        for (var n : namespaces) {
            out.append("    iifname ").append(quote(n.bridge())).append(" oifname @bridges oifname != ")
                    .append(quote(n.bridge())).append(" drop\n");
        }
        out.append("    ct state established,related accept\n");
        config.privateNetwork().ifPresent(p -> privateForward(out, p, namespaces));
        out.append("    oifname @bridges ct status dnat accept\n");
        out.append("    iifname != @bridges oifname @bridges drop\n");
        out.append("    ip saddr @isolated oifname != @bridges drop\n");
        out.append("  }\n");
        out.append("  chain publish {\n");
        for (var m : machines) {
            for (var s : m.services()) {
                out.append("    ip daddr ").append(config.publishAddress()).append(' ').append(s.protocol().wireName())
                        .append(" dport ").append(s.port()).append(" dnat ip to ").append(m.ip()).append(':')
                        .append(s.internalPort()).append('\n');
            }
        }
        out.append("  }\n");
        out.append("  chain prerouting {\n");
        out.append("    type nat hook prerouting priority dstnat; policy accept;\n");
        out.append("    jump publish\n");
        out.append("  }\n");
        out.append("  chain output {\n");
        out.append("    type nat hook output priority -100; policy accept;\n"); // dstnat: nft 1.0.6 rejects the name here
        out.append("    jump publish\n");
        out.append("  }\n");
        out.append("  chain postrouting {\n");
        out.append("    type nat hook postrouting priority srcnat; policy accept;\n");
        link.ifPresent(l -> out.append("    oifname ").append(l).append(" accept\n"));
        for (var n : namespaces) {
            out.append("    ip saddr ").append(n.subnet()).append(" oifname != ").append(quote(n.bridge()))
                    .append(" masquerade\n");
        }
        out.append("  }\n");
        out.append("}\n");

        var guestsIp = machines.stream()
                .map(m -> quote(m.tap()) + " . " + m.mac() + " . " + m.ip())
                .collect(Collectors.joining(", "));
        var guestsArp = machines.stream()
                .map(m -> quote(m.tap()) + " . " + m.mac() + " . " + m.mac() + " . " + m.ip())
                .collect(Collectors.joining(", "));
        out.append("table bridge ").append(t).append(" {\n");
        out.append("  set guests_ip { type ifname . ether_addr . ipv4_addr;").append(elements(guestsIp)).append(" }\n");
        out.append("  set guests_arp { type ifname . ether_addr . ether_addr . ipv4_addr;")
                .append(elements(guestsArp)).append(" }\n");
        out.append("  chain prerouting {\n");
        out.append("    type filter hook prerouting priority filter; policy accept;\n");
        out.append("    iifname != ").append(quote(NodeNetwork.tapPattern(config))).append(" accept\n");
        out.append("    ether type ip iifname . ether saddr . ip saddr @guests_ip accept\n");
        out.append("    ether type arp iifname . ether saddr . arp saddr ether . arp saddr ip @guests_arp accept\n");
        out.append("    drop\n");
        out.append("  }\n");
        out.append("}\n");
        return out.toString();
    }

    /** Within a namespace through the link, in both directions; nothing else from or to it. */
    private static void privateForward(StringBuilder out, PrivateNetwork p, List<NamespaceAllocation> namespaces) {
        var plan = p.addressing();
        var link = quote(p.link());
        var mask = Ipv4.format(plan.namespaceMask());
        var gateways = plan.infrastructureBlock();
        out.append("    iifname ").append(link).append(" ip saddr ").append(gateways)
                .append(" ip daddr . tcp dport @gateway_ports accept\n");
        out.append("    iifname ").append(link).append(" ip saddr ").append(gateways).append(" drop\n");
        out.append("    oifname ").append(link).append(" ip daddr ").append(gateways).append(" drop\n");
        for (var n : namespaces) {
            var subnet = Ipv4.Cidr.parse(n.subnet(), "subnet");
            if (!plan.poolBlock().contains(subnet.network())) continue;
            var value = Ipv4.format(plan.namespaceValue(plan.namespaceOf(Ipv4.format(subnet.network())).orElseThrow()));
            out.append("    iifname ").append(link).append(" oifname ").append(quote(n.bridge())).append(" ip daddr ")
                    .append(subnet).append(" ip saddr & ").append(mask).append(" == ").append(value).append(" accept\n");
            out.append("    iifname ").append(quote(n.bridge())).append(" oifname ").append(link).append(" ip saddr ")
                    .append(subnet).append(" ip daddr & ").append(mask).append(" == ").append(value).append(" accept\n");
        }
        out.append("    iifname ").append(link).append(" drop\n");
        out.append("    oifname ").append(link).append(" drop\n");
    }

    private static String elements(String joined) {
        return joined.isEmpty() ? "" : " elements = { " + joined + " };";
    }

    private static String quote(String name) {
        return '"' + name + '"';
    }
}
