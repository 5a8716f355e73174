package dev.bolero.network;

import java.util.Collection;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * The cluster's private-network address plan (IPv4): every address is {@code pool | node | namespace | host}.
 *
 * <p>The control plane gives each node a <em>node index</em> when it joins and each namespace a <em>namespace
 * index</em> when it is created ({@link #lowestFree}); both stay fixed for the node's and the namespace's life. The
 * namespace's subnet on a node ({@link #subnet}) is its bridge's subnet there: offset 1 is the gateway, the machines
 * take the free offsets after it. So an address is unique across the cluster, names its node (the WireGuard peer that
 * routes it: {@link #nodeBlock} is that peer's allowed IPs) and its namespace ({@link #namespaceOf}, which the
 * isolation rules check). A machine keeps its address while it lives on its node; a machine moved to another node
 * gets an address of the new node, and its DNS names follow it. See {@code docs/private-network.md}.
 *
 * <p>The last node index is not a node's: its block is the <em>infrastructure range</em> ({@link #infrastructureBlock}),
 * where hosts that are no node but take part in the mesh (the gateways) get one address each
 * ({@link #infrastructureAddress}). Nodes are numbered below it ({@link #nodeIndexes()}).
 *
 * @param pool the block every private address comes from, e.g. {@code 10.0.0.0/8}; fixed when the cluster is made
 * @param nodeBits how many bits name the node: up to {@code 2^nodeBits} nodes
 * @param namespaceBits how many bits name the namespace: up to {@code 2^namespaceBits} namespaces; what is left
 *     (at least 3 bits) numbers a namespace's machines on one node
 * @throws IllegalArgumentException if the pool is malformed or the bits do not fit
 */
public record PrivateAddressing(String pool, int nodeBits, int namespaceBits) {
    /** {@code 10.0.0.0/8}, 64 nodes, 1024 namespaces, a /24 (253 machines) per namespace per node. */
    public static final PrivateAddressing DEFAULT = new PrivateAddressing("10.0.0.0/8", 6, 10);

    private static final int MIN_HOST_BITS = 3;

    public PrivateAddressing {
        Objects.requireNonNull(pool, "pool");
        var block = Ipv4.Cidr.parse(pool, "private pool");
        if (nodeBits < 1 || namespaceBits < 1) {
            throw new IllegalArgumentException("node and namespace bits must be at least 1, got " + nodeBits + " and " + namespaceBits);
        }
        int hostBits = 32 - block.prefix() - nodeBits - namespaceBits;
        if (hostBits < MIN_HOST_BITS) {
            throw new IllegalArgumentException("private pool " + pool + " leaves " + hostBits + " host bits after "
                    + nodeBits + " node and " + namespaceBits + " namespace bits; at least " + MIN_HOST_BITS + " are needed");
        }
    }

    /** How many nodes the plan numbers. */
    public int nodes() {
        return 1 << nodeBits;
    }

    /** How many node indexes are given to nodes: every one but the last, which is the infrastructure range's. */
    public int nodeIndexes() {
        return nodes() - 1;
    }

    /**
     * The block of the infrastructure range: the last node index's block, e.g. {@code 10.252.0.0/14}. Every node's
     * link routes it (it is in the pool) and its rules tell it from machines' addresses by this block.
     */
    public String infrastructureBlock() {
        return nodeBlock(nodes() - 1);
    }

    /** How many addresses the infrastructure range gives out (its block less the all-zeros and all-ones ones). */
    public int infrastructureAddresses() {
        return (int) Math.min(Integer.MAX_VALUE, Ipv4.Cidr.parse(infrastructureBlock(), "infrastructure block").size() - 2);
    }

    /**
     * The {@code index}th address of the infrastructure range (from 0): what the control plane allots a gateway,
     * the lowest free index ({@link #lowestFree} with {@link #infrastructureAddresses()}).
     *
     * @throws IllegalArgumentException if {@code index} is outside {@code [0, infrastructureAddresses())}
     */
    public String infrastructureAddress(int index) {
        checkIndex(index, infrastructureAddresses(), "infrastructure address");
        return Ipv4.format(Ipv4.Cidr.parse(infrastructureBlock(), "infrastructure block").host(index + 1));
    }

    /**
     * What the plan gives, for operators: e.g. {@code 10.0.0.0/8 (63 nodes, 1024 namespaces, 253 machines per
     * namespace on a node)}.
     */
    public String describe() {
        return pool + " (" + nodeIndexes() + " nodes, " + namespaces() + " namespaces, " + ((1 << hostBits()) - 3)
                + " machines per namespace on a node)";
    }

    /** How many namespaces the plan numbers. */
    public int namespaces() {
        return 1 << namespaceBits;
    }

    /** Namespace {@code namespace}'s subnet on node {@code node}, e.g. {@code 10.1.3.0/24}. */
    public String subnet(int namespace, int node) {
        return subnetBlock(namespace, node).toString();
    }

    /** The gateway (bridge) address of namespace {@code namespace} on node {@code node}: the subnet's first host. */
    public String gateway(int namespace, int node) {
        return Ipv4.format(subnetBlock(namespace, node).host(1));
    }

    /** Every address node {@code node} hosts, whatever the namespace: the allowed IPs of its WireGuard peer. */
    public String nodeBlock(int node) {
        checkIndex(node, nodes(), "node");
        return poolBlock().child(node, poolBlock().prefix() + nodeBits).toString();
    }

    /** The namespace index an address belongs to; empty if the address is not in the pool. */
    public OptionalInt namespaceOf(String address) {
        int a = Ipv4.parse(address, "address");
        if (!poolBlock().contains(a)) return OptionalInt.empty();
        return OptionalInt.of((a >>> hostBits()) & (namespaces() - 1));
    }

    /** The node index an address belongs to; empty if the address is not in the pool. */
    public OptionalInt nodeOf(String address) {
        int a = Ipv4.parse(address, "address");
        if (!poolBlock().contains(a)) return OptionalInt.empty();
        return OptionalInt.of((a >>> (hostBits() + namespaceBits)) & (nodes() - 1));
    }

    /**
     * The lowest index in {@code [0, limit)} not in {@code taken}: how the control plane numbers a new node
     * ({@code limit = nodes()}) or namespace ({@code limit = namespaces()}). Empty when all are taken.
     */
    public static OptionalInt lowestFree(Collection<Integer> taken, int limit) {
        var used = new java.util.BitSet(limit);
        for (int i : taken) {
            if (i >= 0 && i < limit) used.set(i);
        }
        int free = used.nextClearBit(0);
        return free < limit ? OptionalInt.of(free) : OptionalInt.empty();
    }

    /** The bits of an address that hold the pool and the namespace: {@code address & mask == value(namespace)}. */
    int namespaceMask() {
        return Ipv4.Cidr.mask(poolBlock().prefix()) | ((namespaces() - 1) << hostBits());
    }

    /** What {@code address & namespaceMask()} is for every address of {@code namespace}. */
    int namespaceValue(int namespace) {
        checkIndex(namespace, namespaces(), "namespace");
        return poolBlock().network() | (namespace << hostBits());
    }

    Ipv4.Cidr poolBlock() {
        return Ipv4.Cidr.parse(pool, "private pool");
    }

    Ipv4.Cidr subnetBlock(int namespace, int node) {
        checkIndex(node, nodes(), "node");
        checkIndex(namespace, namespaces(), "namespace");
        var nodeBlock = poolBlock().child(node, poolBlock().prefix() + nodeBits);
        return nodeBlock.child(namespace, nodeBlock.prefix() + namespaceBits);
    }

    private int hostBits() {
        return 32 - poolBlock().prefix() - nodeBits - namespaceBits;
    }

    private static void checkIndex(int index, int limit, String what) {
        if (index < 0 || index >= limit) throw new IllegalArgumentException(what + " index " + index + " outside [0, " + limit + ")");
    }
}
