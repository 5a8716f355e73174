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
import dev.bolero.network.Service;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The machines' side of the node network: a machine is attached (address, tap, rules) when it is created, so that a
 * published port taken by another machine is refused at once, keeps its attachment across its own stops and starts,
 * and is detached when it is deleted. On a node without networking ({@link #disabled()}) machines get no network and
 * publishing a port is refused.
 */
public final class MachineNetwork implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MachineNetwork.class);

    private final Optional<NodeNetwork> network;
    private final Optional<NetworkAllocationStore> allocations;

    private MachineNetwork(Optional<NodeNetwork> network, Optional<NetworkAllocationStore> allocations) {
        this.network = network;
        this.allocations = allocations;
    }

    /** Machines get no network. */
    public static MachineNetwork disabled() {
        return new MachineNetwork(Optional.empty(), Optional.empty());
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
        return new MachineNetwork(Optional.of(network), Optional.of(allocations));
    }

    /**
     * Attaches a new machine of {@code namespace}: address, tap and rules.
     *
     * @return the machine's address; empty on a node without networking
     * @throws ApiException {@code conflict} when a published port is taken, {@code failed_precondition} when the
     *     pool or the namespace's subnet is full or the node has no networking but ports are to be published,
     *     {@code internal} when the host could not be configured
     */
    Optional<String> attach(String id, String namespace, MachineSpec config) {
        if (network.isEmpty()) {
            if (!config.services().isEmpty()) {
                throw ApiException.failedPrecondition("create machine " + id + ": publishing ports needs networking, "
                        + "and this agent runs without it (--no-network)");
            }
            return Optional.empty();
        }
        var request = new NetworkRequest(config.network().egress(), config.services().stream()
                .map(s -> new Service(Service.Protocol.valueOf(s.protocol().toUpperCase(Locale.ROOT)), s.internalPort(), s.port()))
                .toList());
        long start = System.nanoTime();
        try {
            Attachment a = network.get().attach(id, namespace, request);
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
    void detach(String id) {
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
