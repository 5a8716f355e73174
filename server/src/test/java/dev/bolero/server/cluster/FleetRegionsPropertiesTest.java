package dev.bolero.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.wire.DeployStatus;
import dev.bolero.api.wire.DeployStrategy;
import dev.bolero.api.wire.FleetScale;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.Reported;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Invariants of sizing a fleet region by region, over small random fleets: the reconciler's resize checked against a
 * brute-force oracle of which machines a shrink may take, and whole deploys of fleets with a count per region run on
 * {@link DeploysTest}'s simulated fleet.
 */
class FleetRegionsPropertiesTest {
    private static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");
    /** Nodes in a region; node x-1 is in none. */
    private static final Map<String, String> NODE_REGIONS = Map.of("ams-1", "ams", "ord-1", "ord");

    @Property
    void resizeBringsEveryShareToItsCountTakingOnlyTheLeastUsefulNewestMachinesOfShareAboveIt(
            @ForAll("scales") FleetScale scale, @ForAll("fleets") List<MachineRow> machines) {
        var f = new Reconciler.FleetSize("alpha", "web", scale, machines, NODE_REGIONS, Optional.empty());
        var actions = Reconciler.resize(f);

        var removed = new HashSet<String>();
        var grown = new HashMap<Optional<String>, Integer>();
        for (Reconciler.Action a : actions) {
            switch (a) {
                case Reconciler.Action.Shrink s -> assertThat(removed.add(s.machine().id())).isTrue();
                case Reconciler.Action.Grow g -> {
                    assertThat(g.missing()).isPositive();
                    assertThat(grown.put(g.region(), g.missing())).as("one grow per share").isNull();
                }
                default -> throw new AssertionError("not a resize: " + a);
            }
        }
        for (Reconciler.Share share : f.shares()) {
            int have = share.machines().size();
            assertThat(grown.getOrDefault(share.region(), 0)).as("grown in %s", share)
                    .isEqualTo(Math.max(0, share.desired() - have));
            var going = share.machines().stream().filter(m -> removed.contains(m.id())).toList();
            assertThat(going).as("removed from %s", share).hasSize(Math.max(0, have - share.desired()));
            for (MachineRow gone : going) {
                for (MachineRow kept : share.machines()) {
                    if (removed.contains(kept.id())) continue;
                    int byUse = Integer.compare(Reconciler.usefulness(gone), Reconciler.usefulness(kept));
                    assertThat(byUse < 0 || byUse == 0 && gone.createdAt().isAfter(kept.createdAt()))
                            .as("%s went before %s", gone.id(), kept.id()).isTrue();
                }
            }
        }
        assertThat(grown.keySet()).as("grown only where the scale wants machines")
                .allMatch(region -> scale.in(region) > 0);

        var after = new ArrayList<>(machines.stream().filter(m -> !removed.contains(m.id())).toList());
        grown.forEach((region, n) -> {
            for (int i = 0; i < n; i++) after.add(machine("new-" + region.orElse("any") + i, region.orElse(null),
                    null, MachineState.RUNNING, MachineState.CREATED, 100 + after.size()));
        });
        var resized = new Reconciler.FleetSize("alpha", "web", scale, after, NODE_REGIONS, Optional.empty());
        assertThat(Reconciler.resize(resized)).as("resized once: nothing left to do").isEmpty();
        assertThat(after).hasSize(scale.total());
    }

    @Property(tries = 200)
    void aDeployKeepsEveryRegionsCountMakesMachinesOnlyInTheRegionsItKeepsAndEndsOnOneRelease(
            @ForAll("perRegion") FleetScale.PerRegion scale, @ForAll DeployStrategy strategy,
            @ForAll @IntRange(min = 1, max = 2) int maxUnavailable, @ForAll boolean good) {
        var f = new DeploysTest.Fleet(scale, Map.of(1L, DeploysTest.Behavior.HEALTHY, 2L,
                good ? DeploysTest.Behavior.HEALTHY : DeploysTest.Behavior.CRITICAL));
        f.deploy(strategy, maxUnavailable);

        var end = f.run();

        boolean reached = good || scale.total() == 0; // a fleet of no machines has nothing to fail
        long release = reached ? 2 : 1;
        assertThat(end.status()).isEqualTo(reached ? DeployStatus.SUCCEEDED : DeployStatus.ROLLED_BACK);
        var expected = new TreeMap<String, List<Long>>();
        scale.counts().forEach((region, n) -> {
            if (n > 0) expected.put(region, java.util.Collections.nCopies(n, release));
        });
        assertThat(new TreeMap<>(f.byRegion())).isEqualTo(expected);
        assertThat(f.regionsMade).allMatch(scale.counts()::containsKey);
        if (strategy == DeployStrategy.ROLLING) {
            assertThat(f.minHealthy).as("healthy machines while rolling")
                    .isGreaterThanOrEqualTo(scale.total() - maxUnavailable);
        }
    }

    @Provide
    Arbitrary<FleetScale> scales() {
        return Arbitraries.oneOf(Arbitraries.integers().between(0, 6).map(FleetScale.Total::new),
                perRegion().map(s -> (FleetScale) s));
    }

    @Provide
    Arbitrary<FleetScale.PerRegion> perRegion() {
        return Arbitraries.maps(Arbitraries.of("ams", "ord", "syd"), Arbitraries.integers().between(0, 3))
                .ofMinSize(1).ofMaxSize(3).map(counts -> new FleetScale.PerRegion(new TreeMap<>(counts)));
    }

    /** Machines oldest first, each asking for a region or none, on a node or none, in any state. */
    @Provide
    Arbitrary<List<MachineRow>> fleets() {
        Arbitrary<String> asked = Arbitraries.of("ams", "ord", "fra").injectNull(0.5);
        Arbitrary<String> node = Arbitraries.of("ams-1", "ord-1", "x-1").injectNull(0.3);
        Arbitrary<MachineState> desired = Arbitraries.of(MachineState.RUNNING, MachineState.STOPPED);
        Arbitrary<MachineState> observed = Arbitraries.of(MachineState.CREATED, MachineState.RUNNING,
                MachineState.STOPPED, MachineState.FAILED);
        return Combinators.combine(asked, node, desired, observed)
                .as((region, nodeId, want, seen) -> (java.util.function.IntFunction<MachineRow>) i ->
                        machine("m" + i, region, nodeId, want, seen, i))
                .list().ofMaxSize(10).map(rows -> {
                    var out = new ArrayList<MachineRow>();
                    for (int i = 0; i < rows.size(); i++) out.add(rows.get(i).apply(i));
                    return out;
                });
    }

    private static MachineRow machine(String id, String region, String nodeId, MachineState desired,
                                      MachineState observed, int ageRank) {
        var spec = MachineSpec.builder("busybox").guest(1, 256).build();
        var at = NOW.plusSeconds(ageRank);
        return new MachineRow(id, "alpha", "web", id, spec, region, Map.of(), desired, null, 1, nodeId,
                new Reported(observed, null, null, null, null, List.of()), 1, at, at, 1, 1);
    }
}
