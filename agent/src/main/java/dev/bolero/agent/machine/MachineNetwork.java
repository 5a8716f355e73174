package dev.bolero.agent.machine;

import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import dev.bolero.core.MachineSpec;
import dev.bolero.agent.store.NetworkAllocationStore;
import dev.bolero.network.Attachment;
import dev.bolero.network.MachineAllocation;
import dev.bolero.network.NetworkConfig;
import dev.bolero.network.NetworkException;
import dev.bolero.network.NetworkRequest;
import dev.bolero.network.NodeNetwork;
import dev.bolero.network.PrivateNetwork;
import dev.bolero.network.Service;
import java.net.Inet4Address;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The machines' side of the node network: a machine is attached (address, tap, rules) when it is created, so that a
 * published port taken by another machine is refused at once, keeps its attachment across its own stops and starts,
 * and is detached when it is deleted. On a node without networking ({@link #disabled()}) machines get no network and
 * publishing a port is refused. A node that joins the cluster's private network ({@link #joinPrivateNetwork}) gives
 * each namespace the subnet the address plan gives it on the node, by the namespace's index from the control plane.
 */
public final class MachineNetwork implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MachineNetwork.class);

    /** Swapped once, when the node joins the private network; attach, detach and the swap hold the monitor. */
    private volatile Optional<NodeNetwork> network;
    private final Optional<NetworkConfig> config;
    private final Optional<NetworkAllocationStore> allocations;
    /** The private network's namespace indexes, from the control plane's latest assignments. */
    private volatile Map<String, Integer> namespaceIndexes = Map.of();
    /** The node's part in the private network: from the start (a stored layout) or once it joined it. */
    private volatile Optional<PrivateNetwork> privateLayout;
    /** Told the bridges' gateways by whichever node network is current; guarded by the monitor. */
    private Optional<Consumer<Set<Inet4Address>>> gatewayWatcher = Optional.empty();

    private MachineNetwork(Optional<NodeNetwork> network, Optional<NetworkConfig> config,
                           Optional<NetworkAllocationStore> allocations) {
        this.network = network;
        this.config = config;
        this.allocations = allocations;
        this.privateLayout = config.flatMap(NetworkConfig::privateNetwork);
    }

    /** Machines get no network. */
    public static MachineNetwork disabled() {
        return new MachineNetwork(Optional.empty(), Optional.empty(), Optional.empty());
    }

    /**
     * Makes the host match the node network's stored state ({@link NodeNetwork#reconcile()}) and detaches
     * allocations of machines the agent no longer knows (left by an agent killed between the two writes of a create).
     *
     * @param config the node network's layout
     * @param allocations where the node network keeps its state; closed with the returned object (or at once when
     *     this throws)
     * @param machineIds the ids of every machine in the agent's store
     * @throws NetworkException when the host cannot be set up
     */
    public static MachineNetwork start(NetworkConfig config, NetworkAllocationStore allocations, Set<String> machineIds)
            throws NetworkException {
        var network = new NodeNetwork(config, allocations);
        try {
            network.reconcile();
            for (var allocated : allocations.machines().stream().map(MachineAllocation::machineId).toList()) {
                if (!machineIds.contains(allocated)) {
                    log.info("machine={} unknown to the agent: detaching its network", allocated);
                    network.detach(allocated);
                }
            }
        } catch (NetworkException | RuntimeException e) {
            network.close();
            allocations.close();
            throw e;
        }
        return new MachineNetwork(Optional.of(network), Optional.of(config), Optional.of(allocations));
    }

    /**
     * Makes the node part of the cluster's private network: from now on a namespace's subnet is the address plan's
     * for its index on this node, and the rules admit the WireGuard link within a namespace. Rebuilds the node
     * network with that layout and reconciles the host (machines already attached keep their stored subnets); the same
     * {@code privateNetwork} again changes nothing.
     *
     * @throws IllegalStateException on a node without networking
     * @throws NetworkException when the host cannot be set up
     */
    public synchronized void joinPrivateNetwork(PrivateNetwork privateNetwork) throws NetworkException {
        NodeNetwork current = network.orElseThrow(() -> new IllegalStateException(
                "join the private network: this agent runs without networking (--no-network)"));
        if (privateNetwork.equals(privateLayout.orElse(null))) return;
        var next = new NodeNetwork(config.orElseThrow().withPrivateNetwork(privateNetwork), allocations.orElseThrow());
        try {
            next.reconcile();
        } catch (NetworkException | RuntimeException e) {
            next.close();
            throw e;
        }
        network = Optional.of(next);
        privateLayout = Optional.of(privateNetwork);
        current.unwatchGateways();
        current.close();
        gatewayWatcher.ifPresent(next::watchGateways);
        log.info("network: private network on, node index {} link {}", privateNetwork.nodeIndex(), privateNetwork.link());
    }

    /**
     * Tells {@code watcher} the gateway addresses of the namespaces' bridges now and after every change, through
     * whichever node network is current ({@link NodeNetwork#watchGateways}); replaces any watcher set before. On a
     * node without networking it is never told anything.
     */
    public synchronized void watchGateways(Consumer<Set<Inet4Address>> watcher) {
        gatewayWatcher = Optional.of(watcher);
        network.ifPresent(n -> n.watchGateways(watcher));
    }

    /** Stops telling the watcher set by {@link #watchGateways}. */
    public synchronized void unwatchGateways() {
        gatewayWatcher = Optional.empty();
        network.ifPresent(NodeNetwork::unwatchGateways);
    }

    /** Whether machines' addresses are private-network addresses. */
    boolean isPrivate() {
        return privateLayout.isPresent();
    }

    /** The namespaces' indexes in the private network's address plan, as the control plane gave them last. */
    public void namespaceIndexes(Map<String, Integer> indexes) {
        namespaceIndexes = Map.copyOf(indexes);
    }

    /** The ports the cluster's gateways may reach: the internal port of the machine's {@code http_service}, if any. */
    private static Set<Integer> gatewayPorts(MachineSpec config) {
        var service = config.httpService();
        return service == null || service.internalPort() == null ? Set.of() : Set.of(service.internalPort());
    }

    /**
     * Attaches a new machine of {@code namespace}: address, tap and rules.
     *
     * @return the machine's address; empty on a node without networking
     * @throws ApiException {@code conflict} when a published port is taken, {@code failed_precondition} when the
     *     pool or the namespace's subnet is full or the node has no networking but ports are to be published,
     *     {@code internal} when the host could not be configured
     */
    synchronized Optional<String> attach(String id, String namespace, MachineSpec config) {
        if (network.isEmpty()) {
            if (!config.services().isEmpty()) {
                throw ApiException.failedPrecondition("create machine " + id + ": publishing ports needs networking, "
                        + "and this agent runs without it (--no-network)");
            }
            return Optional.empty();
        }
        var request = new NetworkRequest(config.network().egress(), config.services().stream()
                .map(s -> new Service(Service.Protocol.valueOf(s.protocol().toUpperCase(Locale.ROOT)), s.internalPort(), s.port()))
                .toList(), gatewayPorts(config));
        long start = System.nanoTime();
        try {
            Attachment a;
            if (isPrivate()) {
                Integer index = namespaceIndexes.get(namespace);
                if (index == null) {
                    throw ApiException.failedPrecondition("create machine " + id + ": namespace " + namespace
                            + " has no index in the private network (the control plane gave none)");
                }
                a = network.get().attach(id, namespace, index, request);
            } else {
                a = network.get().attach(id, namespace, request);
            }
            log.info("machine={} network attached namespace={} ip={} tap={} ms={}", id, namespace, a.ip(),
                    a.tapName(), String.format(Locale.ROOT, "%.1f", (System.nanoTime() - start) / 1e6));
            return Optional.of(a.ip());
        } catch (NetworkException e) {
            throw switch (e.kind()) {
                case CONFLICT -> ApiException.conflict(e.getMessage());
                case EXHAUSTED -> ApiException.failedPrecondition(e.getMessage());
                case HOST -> new ApiException(ErrorCode.INTERNAL, e.getMessage());
            };
        }
    }

    /** The machine's attachment; empty when it has none (no networking on this node). */
    Optional<Attachment> attachment(String id) {
        return network.flatMap(n -> n.attachment(id));
    }

    /** The machine's address, if it has one. */
    Optional<String> ip(String id) {
        return attachment(id).map(Attachment::ip);
    }

    /**
     * Detaches a deleted machine. A failure is logged, not thrown: the allocation is freed all the same and the next
     * agent start removes what was left on the host.
     */
    synchronized void detach(String id) {
        if (network.isEmpty()) return;
        try {
            network.get().detach(id);
        } catch (NetworkException e) {
            log.warn("machine={} {}", id, e.getMessage());
        }
    }

    /** Releases the nftables context and the store; devices and rules stay with the machines. */
    @Override
    public void close() {
        network.ifPresent(NodeNetwork::close);
        allocations.ifPresent(NetworkAllocationStore::close);
    }
}
