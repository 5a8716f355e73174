package dev.bolero.api.wire;

import java.util.List;

/**
 * The answer of {@code GET /v1/nodes/{id}/assignments}: every machine the node must have, complete (not a delta).
 * Machines the node has that are absent here must be stopped and destroyed.
 *
 * @param index pass it as {@code ?index=} of the next poll
 * @param streams the control plane's requests for bytes from this node's machines (logs, events, exec) not yet
 *     answered; the agent answers each once (see {@link StreamRequest})
 * @param peers when the node is in the private network: every other node of it that is not down and every gateway in
 *     its mesh ({@link GatewayMembership}), as WireGuard peers; the agent makes its link's peers exactly these. Empty
 *     otherwise
 * @param dns when the node is in the private network: every running machine (with a private address) of every
 *     namespace that has a machine on the node, on any node; complete, not a delta. Empty otherwise
 * @param volumes every volume living on the node, attached or not; complete, not a delta: the node removes the data of
 *     a volume it has that is absent here (deleted)
 * @param incoming the volumes moving to the node, each with the pass of blocks to pull; complete: the node removes the
 *     incoming copy of a move absent here that {@code volumes} does not list (the move failed)
 * @param snapshots the ids of the volume snapshots the node keeps besides those {@code volumes} list: those taken here
 *     of volumes that live elsewhere now, and verified copies of snapshots taken on other nodes; complete: the node
 *     removes the file of a snapshot listed nowhere (deleted)
 * @param snapshotCopies the snapshots the node must copy from the node that took them; the copy being made, or made
 *     and not yet recorded, is kept
 */
public record Assignments(long index, List<Assignment> machines, List<StreamRequest> streams, List<NodePeer> peers,
                          List<DnsRecord> dns, List<NodeVolume> volumes, List<VolumeMoveOrder> incoming,
                          List<String> snapshots, List<SnapshotCopyOrder> snapshotCopies) {
    public Assignments {
        snapshots = snapshots == null ? List.of() : List.copyOf(snapshots);
        snapshotCopies = snapshotCopies == null ? List.of() : List.copyOf(snapshotCopies);
        machines = List.copyOf(machines);
        streams = streams == null ? List.of() : List.copyOf(streams);
        peers = peers == null ? List.of() : List.copyOf(peers);
        dns = dns == null ? List.of() : List.copyOf(dns);
        volumes = volumes == null ? List.of() : List.copyOf(volumes);
        incoming = incoming == null ? List.of() : List.copyOf(incoming);
    }

    /** Assignments without snapshot copies. */
    public Assignments(long index, List<Assignment> machines, List<StreamRequest> streams, List<NodePeer> peers,
                       List<DnsRecord> dns, List<NodeVolume> volumes, List<VolumeMoveOrder> incoming) {
        this(index, machines, streams, peers, dns, volumes, incoming, List.of(), List.of());
    }

    /** Assignments without incoming volumes. */
    public Assignments(long index, List<Assignment> machines, List<StreamRequest> streams, List<NodePeer> peers,
                       List<DnsRecord> dns, List<NodeVolume> volumes) {
        this(index, machines, streams, peers, dns, volumes, List.of());
    }

    /** Assignments of a node outside the private network. */
    public Assignments(long index, List<Assignment> machines, List<StreamRequest> streams) {
        this(index, machines, streams, List.of(), List.of(), List.of(), List.of());
    }

    /** Assignments without stream requests. */
    public Assignments(long index, List<Assignment> machines) {
        this(index, machines, List.of());
    }
}
