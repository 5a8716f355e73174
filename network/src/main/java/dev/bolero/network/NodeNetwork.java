package dev.bolero.network;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's side of machine networking: one bridge and subnet per namespace, one tap and address per machine,
 * and the nftables rules that isolate namespaces, stop address spoofing, give egress through NAT and publish ports.
 *
 * <p>State lives in the {@link AllocationStore}; the devices and the nftables tables are made to match it. Call
 * {@link #reconcile()} once when the agent starts (it enables IPv4 forwarding, recreates what is missing and deletes
 * devices with the configured prefix that the store does not know); {@link #attach} and {@link #detach} refuse to
 * run before it. Every change rewrites Bolero's two nftables tables ({@code inet} and {@code bridge}, named by
 * {@link NetworkConfig#table()}) in one atomic nftables transaction (through libnftables, in process) and touches no
 * other table. Methods are
 * safe to call from several threads; they run one at a time. {@link #close()} releases the nftables context.
 *
 * <p>See {@code Ruleset} for the exact policy. In short: machines of different namespaces exchange no packet; a
 * machine's frames must carry its own MAC and IPv4 address; nothing new from a machine reaches the host; published
 * ports are reachable on {@link NetworkConfig#publishAddress()} from outside and from the host, but not from another
 * namespace's machines.
 */
public final class NodeNetwork implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeNetwork.class);
    private static final int NAME_ATTEMPTS = 16;

    private final NetworkConfig config;
    private final AllocationStore store;
    private final HostCommands host;
    private final PortFactory ports;
    private final Ipv4.Cidr pool;
    private final Pattern ownDevice;
    private final ReentrantLock lock = new ReentrantLock();
    private LibNftables nft;
    private boolean reconciled;
    private Optional<Consumer<Set<Inet4Address>>> gatewayWatcher = Optional.empty();
    /** The gateways the watcher was last told; empty before it was told any. */
    private Optional<Set<Inet4Address>> toldGateways = Optional.empty();

    /** A node network that creates tap devices; no I/O happens until {@link #reconcile()}. */
    public NodeNetwork(NetworkConfig config, AllocationStore store) {
        this(config, store, PortFactory.TAP);
    }

    NodeNetwork(NetworkConfig config, AllocationStore store, PortFactory ports) {
        this.config = Objects.requireNonNull(config, "config");
        this.store = Objects.requireNonNull(store, "store");
        this.ports = Objects.requireNonNull(ports, "ports");
        this.host = HostCommands.in(config.netns());
        this.pool = config.poolBlock();
        this.ownDevice = Pattern.compile(Pattern.quote(config.devicePrefix()) + "(br\\d+|t[0-9a-f]{8})");
    }

    /**
     * Makes the host match the store: enables IPv4 forwarding, forgets namespaces without machines, deletes devices
     * named with the configured prefix that the store does not know, creates missing bridges and taps (and puts
     * existing ones back on their bridge, up, with their address), then rewrites Bolero's nftables tables. Running
     * it again changes nothing.
     *
     * @throws NetworkException of kind HOST if a host command fails
     * @throws IllegalStateException if the store lists a machine in a namespace it does not know
     */
    public void reconcile() throws NetworkException {
        lock.lock();
        try {
            if (nft == null) nft = new LibNftables(config.netns());
            host.run("reconcile: enable IPv4 forwarding", null, "sysctl", "-qw", "net.ipv4.ip_forward=1");
            var machines = store.machines();
            var used = machines.stream().map(MachineAllocation::namespace).collect(Collectors.toSet());
            for (var n : store.namespaces()) {
                if (!used.contains(n.namespace())) store.removeNamespace(n.namespace());
            }
            var namespaces = store.namespaces();
            for (var m : machines) {
                namespaceOf(m);
            }

            var present = ownDevices("reconcile");
            var expected = new HashSet<String>();
            namespaces.forEach(n -> expected.add(n.bridge()));
            machines.forEach(m -> expected.add(m.tap()));
            var batch = new ArrayList<String>();
            for (var name : present) {
                if (!expected.contains(name)) {
                    log.info("reconcile: deleting unknown device {}", name);
                    batch.add("link del dev " + name);
                }
            }
            for (var n : namespaces) {
                if (!present.contains(n.bridge())) log.info("reconcile: recreating bridge {} namespace={}", n.bridge(), n.namespace());
                batch.addAll(bridgeLines(n, !present.contains(n.bridge())));
            }
            for (var m : machines) {
                if (!present.contains(m.tap())) {
                    log.info("reconcile: recreating tap {} machine={}", m.tap(), m.machineId());
                    batch.addAll(ports.create(m.machineId(), m.tap(), m.mac()));
                }
                batch.add(enslave(m.tap(), namespaceOf(m).bridge()));
            }
            ipBatch("reconcile", batch);
            applyRules("reconcile");
            reconciled = true;
        } finally {
            tellGateways();
            lock.unlock();
        }
    }

    /**
     * Gives a machine an address in its namespace's subnet (creating the namespace's subnet and bridge if it is the
     * first machine there), creates its tap on the bridge and applies its rules.
     *
     * @return what the VMM and the guest need
     * @throws NetworkException CONFLICT if the machine is already attached or one of its ports is published by
     *     another machine, EXHAUSTED if no subnet or address is free, HOST if a host command fails (then nothing of
     *     the attempt is left behind)
     * @throws IllegalStateException before {@link #reconcile()}, or when the node is part of a private network (use
     *     {@link #attach(String, String, int, NetworkRequest)})
     */
    public Attachment attach(String machineId, String namespace, NetworkRequest request) throws NetworkException {
        if (config.privateNetwork().isPresent()) {
            throw new IllegalStateException("attach machine " + machineId + ": the private network needs the namespace's index");
        }
        return attach(machineId, namespace, OptionalInt.empty(), request);
    }

    /**
     * As {@link #attach(String, String, NetworkRequest)}, on a node that is part of the cluster's private network: the
     * namespace's subnet is {@link PrivateAddressing#subnet namespaceIndex's subnet} on this node, so the machine's
     * address is unique across the cluster and reachable from the namespace's machines on other nodes.
     *
     * @param namespaceIndex the namespace's index in the address plan, from the control plane
     * @throws NetworkException CONFLICT also when the namespace is already on the node under another index
     * @throws IllegalStateException before {@link #reconcile()}, or when the node has no private network
     * @throws IllegalArgumentException if {@code namespaceIndex} is outside the address plan
     */
    public Attachment attach(String machineId, String namespace, int namespaceIndex, NetworkRequest request)
            throws NetworkException {
        if (config.privateNetwork().isEmpty()) {
            throw new IllegalStateException("attach machine " + machineId + ": the node has no private network");
        }
        return attach(machineId, namespace, OptionalInt.of(namespaceIndex), request);
    }

    private Attachment attach(String machineId, String namespace, OptionalInt namespaceIndex, NetworkRequest request)
            throws NetworkException {
        requireName(machineId, "machine id");
        requireName(namespace, "namespace");
        Objects.requireNonNull(request, "request");
        var action = "attach machine " + machineId;
        lock.lock();
        try {
            requireReconciled();
            var machines = store.machines();
            if (machines.stream().anyMatch(m -> m.machineId().equals(machineId))) {
                throw new NetworkException(NetworkException.Kind.CONFLICT, action + ": already attached");
            }
            for (var s : request.services()) {
                for (var other : machines) {
                    for (var taken : other.services()) {
                        if (taken.protocol() == s.protocol() && taken.port() == s.port()) {
                            throw new NetworkException(NetworkException.Kind.CONFLICT, action + ": " + s.protocol().wireName()
                                    + " port " + s.port() + " is already published by machine " + other.machineId());
                        }
                    }
                }
            }
            var existing = store.namespaces().stream().filter(n -> n.namespace().equals(namespace)).findFirst();
            if (existing.isPresent() && namespaceIndex.isPresent() && existing.get().index() != namespaceIndex.getAsInt()) {
                throw new NetworkException(NetworkException.Kind.CONFLICT, action + ": namespace " + namespace + " has index "
                        + existing.get().index() + " on this node, not " + namespaceIndex.getAsInt());
            }
            var ns = existing.isPresent() ? existing.get() : newNamespace(action, namespace, namespaceIndex);
            var subnet = Ipv4.Cidr.parse(ns.subnet(), "subnet");
            int ip = freeAddress(action, subnet, machines);
            var mac = Ipv4.mac(ip);
            var machine = new MachineAllocation(machineId, namespace, Ipv4.format(ip), mac, tapName(action, machineId, machines),
                    request.egress(), request.services(), request.gatewayPorts());

            if (existing.isEmpty()) store.putNamespace(ns);
            store.putMachine(machine);
            try {
                var batch = new ArrayList<String>();
                if (existing.isEmpty()) batch.addAll(bridgeLines(ns, true));
                batch.addAll(ports.create(machineId, machine.tap(), mac));
                batch.add(enslave(machine.tap(), ns.bridge()));
                ipBatch(action, batch);
                applyRules(action);
            } catch (NetworkException | RuntimeException e) {
                store.removeMachine(machineId);
                if (existing.isEmpty()) store.removeNamespace(namespace);
                undo(action, e, existing.isEmpty() ? List.of(machine.tap(), ns.bridge()) : List.of(machine.tap()));
                throw e;
            }
            log.debug("attached machine={} namespace={} ip={} tap={}", machineId, namespace, machine.ip(), machine.tap());
            return attachment(machine, ns);
        } finally {
            tellGateways();
            lock.unlock();
        }
    }

    /** The attachment of a machine, if it is attached. */
    public Optional<Attachment> attachment(String machineId) {
        lock.lock();
        try {
            return store.machines().stream()
                    .filter(m -> m.machineId().equals(machineId))
                    .findFirst()
                    .map(m -> attachment(m, namespaceOf(m)));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes a machine's tap and rules and frees its address; removes its namespace's bridge and subnet when it was
     * the namespace's last machine. Detaching an unknown machine does nothing; devices already gone are not an error.
     *
     * @throws NetworkException HOST if a device could not be removed or the rules not rewritten (the allocation is
     *     freed all the same, and the next {@link #reconcile()} deletes what was left)
     * @throws IllegalStateException before {@link #reconcile()}
     */
    public void detach(String machineId) throws NetworkException {
        var action = "detach machine " + machineId;
        lock.lock();
        try {
            requireReconciled();
            var machines = store.machines();
            var found = machines.stream().filter(m -> m.machineId().equals(machineId)).findFirst();
            if (found.isEmpty()) return;
            var machine = found.get();
            var ns = namespaceOf(machine);
            boolean last = machines.stream().noneMatch(m -> m.namespace().equals(ns.namespace()) && !m.machineId().equals(machineId));
            store.removeMachine(machineId);
            if (last) store.removeNamespace(ns.namespace());
            var devices = last ? List.of(machine.tap(), ns.bridge()) : List.of(machine.tap());
            deleteDevices(action, devices);
            applyRules(action);
            log.debug("detached machine={} namespace={} bridge_removed={}", machineId, ns.namespace(), last);
        } finally {
            tellGateways();
            lock.unlock();
        }
    }

    /**
     * Tells {@code watcher} the gateway addresses of the namespaces' bridges (each bridge's first address, which its
     * machines use as router and name server): now, if {@link #reconcile()} ran, and again after every change, right
     * after a bridge was created and right after one was deleted. It replaces any watcher set before. The watcher runs
     * while this network's lock is held, so it must not call back into it; what it throws is logged. The node's
     * {@link InternalDns} listens on these addresses ({@link InternalDns#listenOn}).
     */
    public void watchGateways(Consumer<Set<Inet4Address>> watcher) {
        Objects.requireNonNull(watcher, "watcher");
        lock.lock();
        try {
            gatewayWatcher = Optional.of(watcher);
            toldGateways = Optional.empty();
            tellGateways();
        } finally {
            lock.unlock();
        }
    }

    /** Stops telling the watcher set by {@link #watchGateways}; without one, does nothing. */
    public void unwatchGateways() {
        lock.lock();
        try {
            gatewayWatcher = Optional.empty();
            toldGateways = Optional.empty();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Releases the nftables context. Devices, rules and allocations stay: they belong to the machines, and the next
     * NodeNetwork's {@link #reconcile()} takes them over.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            reconciled = false;
            if (nft != null) nft.close();
            nft = null;
        } finally {
            lock.unlock();
        }
    }

    /** The nftables pattern that matches every tap name this config produces. */
    static String tapPattern(NetworkConfig config) {
        return config.devicePrefix() + "t*";
    }

    private NamespaceAllocation newNamespace(String action, String namespace, OptionalInt privateIndex) throws NetworkException {
        var taken = store.namespaces().stream().map(NamespaceAllocation::index).collect(Collectors.toSet());
        if (privateIndex.isPresent()) {
            int index = privateIndex.getAsInt();
            var p = config.privateNetwork().orElseThrow();
            if (taken.contains(index)) {
                throw new NetworkException(NetworkException.Kind.CONFLICT,
                        action + ": namespace index " + index + " is already another namespace's on this node");
            }
            return new NamespaceAllocation(namespace, index, p.addressing().subnet(index, p.nodeIndex()),
                    config.devicePrefix() + "br" + index);
        }
        long count = 1L << (config.namespacePrefix() - pool.prefix());
        for (int i = 0; i < count; i++) {
            if (!taken.contains(i)) {
                var subnet = pool.child(i, config.namespacePrefix());
                return new NamespaceAllocation(namespace, i, subnet.toString(), config.devicePrefix() + "br" + i);
            }
        }
        throw new NetworkException(NetworkException.Kind.EXHAUSTED,
                action + ": no free subnet for namespace " + namespace + " in pool " + config.pool());
    }

    private static int freeAddress(String action, Ipv4.Cidr subnet, List<MachineAllocation> machines) throws NetworkException {
        var taken = machines.stream()
                .map(m -> Ipv4.parse(m.ip(), "machine address"))
                .filter(subnet::contains)
                .collect(Collectors.toSet());
        // Offset 0 is the network, 1 the gateway, the last one broadcast.
        for (int offset = 2; offset < subnet.size() - 1; offset++) {
            int candidate = subnet.host(offset);
            if (!taken.contains(candidate)) return candidate;
        }
        throw new NetworkException(NetworkException.Kind.EXHAUSTED, action + ": no free address in " + subnet);
    }

    private String tapName(String action, String machineId, List<MachineAllocation> machines) throws NetworkException {
        var taken = machines.stream().map(MachineAllocation::tap).collect(Collectors.toSet());
        for (int attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
            var seed = attempt == 0 ? machineId : machineId + "#" + attempt;
            var name = config.devicePrefix() + "t" + HexFormat.of().formatHex(sha256(seed), 0, 4);
            if (!taken.contains(name)) return name;
        }
        throw new NetworkException(NetworkException.Kind.EXHAUSTED, action + ": no free tap name");
    }

    /**
     * Tells the watcher the bridges' gateways if they changed since it was last told (the store lists exactly the
     * bridges that exist once a change succeeded or was undone); called with the lock held.
     */
    private void tellGateways() {
        if (gatewayWatcher.isEmpty() || !reconciled) return;
        var gateways = store.namespaces().stream()
                .map(n -> (Inet4Address) InetAddress.ofLiteral(Ipv4.format(gateway(n))))
                .collect(Collectors.toUnmodifiableSet());
        if (toldGateways.equals(Optional.of(gateways))) return;
        try {
            gatewayWatcher.get().accept(gateways);
        } catch (RuntimeException e) {
            log.warn("gateway watcher failed for {}: {}", gateways, e.toString());
        }
        toldGateways = Optional.of(gateways);
    }

    /** The namespace's gateway: the first address of its subnet, on its bridge. */
    private static int gateway(NamespaceAllocation ns) {
        return Ipv4.Cidr.parse(ns.subnet(), "subnet").host(1);
    }

    private List<String> bridgeLines(NamespaceAllocation ns, boolean create) {
        var subnet = Ipv4.Cidr.parse(ns.subnet(), "subnet");
        int gateway = gateway(ns);
        var lines = new ArrayList<String>();
        if (create) lines.add("link add name " + ns.bridge() + " type bridge");
        lines.add("link set dev " + ns.bridge() + " address " + Ipv4.mac(gateway) + " up");
        lines.add("addr replace " + Ipv4.format(gateway) + "/" + subnet.prefix() + " dev " + ns.bridge());
        return lines;
    }

    private static String enslave(String tap, String bridge) {
        return "link set dev " + tap + " master " + bridge + " up";
    }

    private Attachment attachment(MachineAllocation m, NamespaceAllocation ns) {
        var subnet = Ipv4.Cidr.parse(ns.subnet(), "subnet");
        String gateway = Ipv4.format(gateway(ns));
        // On the private network the node's internal DNS, on the gateway, answers the namespace's names and forwards
        // the rest.
        return new Attachment(m.tap(), m.mac(), m.ip() + "/" + subnet.prefix(), gateway,
                config.privateNetwork().isPresent() ? List.of(gateway) : config.dns(), ns.subnet(),
                config.privateNetwork().isPresent() ? List.of(ns.namespace() + ".internal") : List.of());
    }

    private NamespaceAllocation namespaceOf(MachineAllocation m) {
        return store.namespaces().stream()
                .filter(n -> n.namespace().equals(m.namespace()))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException(
                        "allocation store lists machine " + m.machineId() + " in unknown namespace " + m.namespace()));
    }

    private void applyRules(String action) throws NetworkException {
        var script = Ruleset.render(config, store.namespaces(), store.machines());
        long start = System.nanoTime();
        nft.run(action + ": apply nftables table " + config.table(), script);
        if (log.isDebugEnabled()) {
            log.debug("applied action=\"{}\" ms={}\n{}", action, (System.nanoTime() - start) / 1_000_000, script);
        }
    }

    private void ipBatch(String action, List<String> lines) throws NetworkException {
        if (lines.isEmpty()) return;
        host.run(action + ": configure devices", String.join("\n", lines) + "\n", "ip", "-batch", "-");
    }

    /** Deletes devices, tolerating ones already gone; fails only if one of them is still there afterwards. */
    private void deleteDevices(String action, List<String> names) throws NetworkException {
        var lines = names.stream().map(n -> "link del dev " + n).collect(Collectors.joining("\n", "", "\n"));
        try {
            host.run(action + ": delete devices", lines, "ip", "-force", "-batch", "-");
        } catch (NetworkException e) {
            var left = new TreeSet<>(names);
            left.retainAll(ownDevices(action));
            if (!left.isEmpty()) {
                throw new NetworkException(NetworkException.Kind.HOST, action + ": could not delete " + left + ": " + e.getMessage(), e);
            }
        }
    }

    /** Best-effort removal of what a failed attach created, then rules matching the store again. */
    private void undo(String action, Exception failure, List<String> devices) {
        try {
            deleteDevices(action + " (undo)", devices);
            applyRules(action + " (undo)");
        } catch (NetworkException e) {
            failure.addSuppressed(e);
        }
    }

    private Set<String> ownDevices(String action) throws NetworkException {
        var names = new TreeSet<String>();
        for (var line : host.run(action + ": list devices", null, "ip", "-o", "link", "show").split("\n")) {
            // "7: blt0a1b2c3d@if6: <BROADCAST,...> ..." — the name is the second field, up to '@' for veth peers.
            var fields = line.split(": ", 3);
            if (fields.length < 2) continue;
            var name = fields[1];
            int at = name.indexOf('@');
            if (at >= 0) name = name.substring(0, at);
            if (ownDevice.matcher(name).matches()) names.add(name);
        }
        return names;
    }

    private void requireReconciled() {
        if (!reconciled) throw new IllegalStateException("node network used before reconcile()");
    }

    private static void requireName(String value, String what) {
        if (value == null || value.isBlank()) throw new IllegalArgumentException(what + " must not be blank");
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("SHA-256 is always present", e);
        }
    }
}
