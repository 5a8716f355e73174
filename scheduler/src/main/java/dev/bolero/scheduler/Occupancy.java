package dev.bolero.scheduler;

import java.util.HashMap;
import java.util.Map;

/**
 * What is in use on each node of a snapshot, by position: resources (with the block summaries ranking prunes with),
 * host ports and machines per fleet. Starts as the snapshot's own and copies a part only before {@link #add} first
 * changes it, so the snapshot is never changed: a {@link Placer} remembers its placements here, and
 * {@link ClusterSnapshot#withPlacements} builds the next snapshot from one.
 */
final class Occupancy {

    private final ClusterSnapshot snapshot;
    private int[] usedCpu;
    private long[] usedMem;
    private Blocks blocks;
    private boolean ownArrays;
    private PortUse ports;
    private boolean ownPorts;
    /** Fleets whose counts were changed; absent fleets are as in the snapshot. */
    private final Map<String, FleetCounts> changedFleets = new HashMap<>();

    Occupancy(ClusterSnapshot snapshot) {
        this.snapshot = snapshot;
        this.usedCpu = snapshot.usedCpu;
        this.usedMem = snapshot.usedMem;
        this.blocks = snapshot.blocks;
        this.ports = snapshot.ports;
    }

    /** The vCPUs in use, by position; replaced by a copy on the first {@link #add}, so read it again after one. */
    int[] usedCpu() {
        return usedCpu;
    }

    /** The MiB in use, by position; replaced by a copy on the first {@link #add}, as {@link #usedCpu()}. */
    long[] usedMem() {
        return usedMem;
    }

    Blocks blocks() {
        return blocks;
    }

    PortUse ports() {
        return ports;
    }

    /** How many machines of {@code fleet} each position runs. */
    FleetCounts fleetCounts(String fleet) {
        var counts = changedFleets.get(fleet);
        return counts != null ? counts : snapshot.fleets.getOrDefault(fleet, FleetCounts.EMPTY);
    }

    /** Every fleet's counts: the snapshot's, with the changed fleets replaced. */
    Map<String, FleetCounts> fleets() {
        if (changedFleets.isEmpty()) {
            return snapshot.fleets;
        }
        var all = new HashMap<>(snapshot.fleets);
        all.putAll(changedFleets);
        return Map.copyOf(all);
    }

    /** Counts a machine asking for {@code request} on position {@code p}: its resources, ports and fleet. */
    void add(int p, PlacementRequest request) {
        if (!ownArrays) {
            usedCpu = usedCpu.clone();
            usedMem = usedMem.clone();
            blocks = blocks.copy();
            ownArrays = true;
        }
        usedCpu[p] = Math.addExact(usedCpu[p], request.resources().cpus());
        usedMem[p] = Math.addExact(usedMem[p], request.resources().memoryMb());
        int block = snapshot.blockOf[p];
        if (block >= 0) {
            blocks.refresh(block, snapshot, usedCpu, usedMem);
        }
        if (!request.ports().isEmpty()) {
            if (!ownPorts) {
                ports = ports.copy();
                ownPorts = true;
            }
            ports.add(p, request.ports());
        }
        request.fleet().ifPresent(fleet -> changedFleets.put(fleet, fleetCounts(fleet).plusOne(p)));
    }
}
