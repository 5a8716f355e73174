package dev.bolero.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.wire.DeployPolicy;
import dev.bolero.api.wire.DeployStatus;
import dev.bolero.api.wire.DeployStep;
import dev.bolero.api.wire.DeployStrategy;
import dev.bolero.api.wire.Deployment;
import dev.bolero.api.wire.FleetScale;
import dev.bolero.core.CheckStatus;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.Reported;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Deployments driven by the pure {@link Deploys} step on a fake clock: a small simulated fleet whose machines become
 * healthy, stay critical or crash some seconds after they are made, by release.
 */
class DeploysTest {
    private static final Instant START = Instant.parse("2026-12-02T12:00:00Z");
    private static final Duration TICK = Duration.ofSeconds(5);
    private static final Duration BOOT = Duration.ofSeconds(10);
    private static final int WAIT_S = 60;

    /** What machines of a release do once booted. */
    enum Behavior { HEALTHY, CRITICAL, CRASH }

    /** The fleet: its rows, release and deployment, as the store would hold them; actions applied as the loop does. */
    static final class Fleet {
        final Map<Long, Behavior> releases;
        final FleetScale scale;
        long version = 1;
        Optional<Deployment> deployment = Optional.empty();
        List<MachineRow> machines = new ArrayList<>();
        Instant now = START;
        int made;
        int minHealthy = Integer.MAX_VALUE;
        int maxMachines;
        boolean full; // no node has room: creates do nothing
        final java.util.Set<String> regionsMade = new java.util.TreeSet<>(); // the regions machines were made in

        Fleet(int count, Map<Long, Behavior> releases) {
            this(new FleetScale.Total(count), releases);
        }

        /** A fleet of {@code scale}, its machines of release 1 in their regions, healthy. */
        Fleet(FleetScale scale, Map<Long, Behavior> releases) {
            this.scale = scale;
            this.releases = releases;
            Instant before = START.minus(Duration.ofHours(1));
            switch (scale) {
                case FleetScale.Total t -> {
                    for (int i = 0; i < t.count(); i++) machines.add(machine(1, before, Optional.empty()));
                }
                case FleetScale.PerRegion r -> r.counts().forEach((region, n) -> {
                    for (int i = 0; i < n; i++) machines.add(machine(1, before, Optional.of(region)));
                });
            }
            tick(0); // the old release's machines are healthy
        }

        MachineRow machine(long release, Instant at, Optional<String> region) {
            var spec = MachineSpec.builder("web:" + release).guest(1, 256)
                    .check("http", MachineSpec.Check.http(8080, "/health")).build();
            return new MachineRow("m" + (++made), "alpha", "web", "m" + made, spec, region.orElse(null), Map.of(),
                    MachineState.RUNNING, null, 1, "n1", Reported.NONE, 1, at, at, release, 1);
        }

        void deploy(DeployStrategy strategy, int maxUnavailable) {
            var d = new Deployment("d1", "alpha", "web", version, version + 1,
                    new DeployPolicy(strategy, maxUnavailable, WAIT_S), DeployStatus.RUNNING, null, now, now,
                    List.of(new DeployStep(now, DeployStep.Kind.STARTED, null, "deploying")));
            version = d.toVersion();
            deployment = Optional.of(d);
        }

        /** Reports what each machine does at {@code now}. */
        void tick(long seconds) {
            now = now.plusSeconds(seconds);
            var reported = new ArrayList<MachineRow>();
            for (MachineRow m : machines) {
                boolean booted = !now.isBefore(m.createdAt().plus(BOOT));
                Behavior b = releases.get(m.configVersion());
                Reported r = !booted ? new Reported(MachineState.STARTING, null, null, null, null, List.of())
                        : switch (b) {
                            case HEALTHY -> running(CheckStatus.Status.PASSING);
                            case CRITICAL -> running(CheckStatus.Status.CRITICAL);
                            case CRASH -> new Reported(MachineState.FAILED, null, 1, "exited 1", null, List.of());
                        };
                reported.add(new MachineRow(m.id(), m.namespace(), m.fleet(), m.name(), m.spec(), m.region(),
                        m.nodeLabels(), m.desiredState(), m.stop(), m.generation(), m.nodeId(), r, m.modifyIndex(),
                        m.createdAt(), m.updatedAt(), m.configVersion(), m.version()));
            }
            machines = reported;
        }

        private Reported running(CheckStatus.Status status) {
            return new Reported(MachineState.RUNNING, "sha256:x", null, null, null,
                    List.of(new CheckStatus("http", status, "", now)));
        }

        /**
         * The deployment now {@code status} with {@code message} since {@code at}, {@code step} after its steps, as the
         * store records them.
         */
        Deployment recorded(DeployStatus status, String message, Instant at, DeployStep step) {
            Deployment d = current();
            var steps = new ArrayList<>(d.steps());
            steps.add(step);
            return new Deployment(d.id(), d.namespace(), d.fleet(), d.fromVersion(), d.toVersion(), d.policy(), status,
                    message, d.createdAt(), at, steps);
        }

        Deployment current() {
            return deployment.orElseThrow();
        }

        /** The deployment's steps as {@code kind machine-or-dash}, oldest first, machines named by their index. */
        List<String> steps() {
            return current().steps().stream().map(s -> s.kind().wireName()
                    + (s.machineId() == null ? "" : " " + s.machineId())).toList();
        }

        Reconciler.FleetSize size() {
            return new Reconciler.FleetSize("alpha", "web", scale, machines, Map.of(), deployment);
        }

        /** One reconciliation: the step's actions applied as {@link ClusterLoops} does; whether the deployment is active. */
        boolean step() {
            for (Reconciler.Action a : Deploys.step(size(), deployment.orElseThrow(), now)) {
                switch (a) {
                    case Reconciler.Action.Grow g -> {
                        for (int i = 0; i < g.missing() && !full; i++) {
                            machines.add(machine(version, now, g.region()));
                            g.region().ifPresent(regionsMade::add);
                        }
                    }
                    case Reconciler.Action.Shrink s -> machines.removeIf(m -> m.id().equals(s.machine().id()));
                    case Reconciler.Action.RollBack back -> {
                        deployment = Optional.of(recorded(DeployStatus.ROLLING_BACK, back.reason(), now, back.step()));
                        version = back.deployment().fromVersion();
                    }
                    case Reconciler.Action.Finish f ->
                            deployment = Optional.of(recorded(f.status(), f.message(), now, f.step()));
                    case Reconciler.Action.Note n -> deployment = Optional.of(recorded(current().status(),
                            current().message(), current().updatedAt(), n.step()));
                    default -> throw new AssertionError("not a deployment action: " + a);
                }
            }
            maxMachines = Math.max(maxMachines, machines.size());
            return deployment.orElseThrow().status().active();
        }

        /** Ticks until the deployment ends (at most an hour of fake time); its end. */
        Deployment run() {
            for (int i = 0; i < 720 && step(); i++) {
                tick(TICK.toSeconds());
                minHealthy = Math.min(minHealthy, (int) machines.stream().filter(MachineRow::healthy).count());
            }
            return deployment.orElseThrow();
        }

        /** The releases of the machines in each region they asked for. */
        Map<String, List<Long>> byRegion() {
            return machines.stream().collect(java.util.stream.Collectors.groupingBy(MachineRow::region,
                    java.util.stream.Collectors.mapping(MachineRow::configVersion,
                            java.util.stream.Collectors.toList())));
        }

        List<Long> versions() {
            return machines.stream().map(MachineRow::configVersion).toList();
        }

        boolean allHealthy() {
            return machines.stream().allMatch(MachineRow::healthy);
        }
    }

    private static Fleet fleet(int count, Behavior next) {
        return new Fleet(count, Map.of(1L, Behavior.HEALTHY, 2L, next));
    }

    @ParameterizedTest
    @EnumSource(DeployStrategy.class)
    void aHealthyReleaseReplacesEveryMachine(DeployStrategy strategy) {
        var f = fleet(3, Behavior.HEALTHY);
        f.deploy(strategy, 1);

        Deployment end = f.run();

        assertThat(end.status()).isEqualTo(DeployStatus.SUCCEEDED);
        assertThat(f.versions()).containsExactly(2L, 2L, 2L);
        f.tick(TICK.toSeconds());
        assertThat(f.allHealthy()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(value = DeployStrategy.class, names = {"ROLLING", "CANARY", "BLUEGREEN"})
    void aReleaseWhoseChecksFailIsRolledBackWithoutLosingMoreThanMaxUnavailable(DeployStrategy strategy) {
        var f = fleet(3, Behavior.CRITICAL);
        f.deploy(strategy, 1);

        Deployment end = f.run();

        assertThat(end.status()).isEqualTo(DeployStatus.ROLLED_BACK);
        assertThat(end.message()).startsWith("release 2: machine ").contains("not healthy after 60 s")
                .contains("check http critical");
        assertThat(f.versions()).containsExactly(1L, 1L, 1L);
        assertThat(f.minHealthy).isGreaterThanOrEqualTo(2);
    }

    @Test
    void aCrashingReleaseRollsBackAsSoonAsAMachineFailsNotAtTheDeadline() {
        var f = fleet(2, Behavior.CRASH);
        f.deploy(DeployStrategy.ROLLING, 1);

        Deployment end = f.run();

        assertThat(end.status()).isEqualTo(DeployStatus.ROLLED_BACK);
        assertThat(end.message()).contains("failed: exited 1");
        assertThat(Duration.between(START, end.updatedAt())).isLessThan(Duration.ofSeconds(WAIT_S));
        assertThat(f.versions()).containsExactly(1L, 1L);
    }

    @Test
    void anImmediateDeployOfABadReleaseComesBackToTheOldOne() {
        var f = fleet(2, Behavior.CRITICAL);
        f.deploy(DeployStrategy.IMMEDIATE, 1);

        assertThat(f.run().status()).isEqualTo(DeployStatus.ROLLED_BACK);
        assertThat(f.versions()).containsExactly(1L, 1L);
        f.tick(TICK.toSeconds());
        assertThat(f.allHealthy()).isTrue();
    }

    @Test
    void rollingReplacesMaxUnavailableAtOnceAndNeverAddsMachines() {
        var f = fleet(4, Behavior.HEALTHY);
        f.deploy(DeployStrategy.ROLLING, 2);

        assertThat(f.run().status()).isEqualTo(DeployStatus.SUCCEEDED);
        assertThat(f.minHealthy).isEqualTo(2);
        assertThat(f.maxMachines).isEqualTo(4);
    }

    @Test
    void canaryAddsOneMachineFirstAndBluegreenAFullSet() {
        var canary = fleet(3, Behavior.HEALTHY);
        canary.deploy(DeployStrategy.CANARY, 1);
        var first = Deploys.step(canary.size(), canary.deployment.orElseThrow(), canary.now);
        assertThat(first).hasSize(2).last().isEqualTo(new Reconciler.Action.Grow("alpha", "web", 1));
        assertThat(first.getFirst()).isInstanceOfSatisfying(Reconciler.Action.Note.class, n -> assertThat(
                n.step().message()).isEqualTo("creating 1 machine of release 2 as the canary"));

        var bluegreen = fleet(3, Behavior.HEALTHY);
        bluegreen.deploy(DeployStrategy.BLUEGREEN, 1);
        assertThat(bluegreen.run().status()).isEqualTo(DeployStatus.SUCCEEDED);
        assertThat(bluegreen.maxMachines).isEqualTo(6);
        assertThat(bluegreen.minHealthy).isEqualTo(3);
    }

    @Test
    void aDeploymentContinuesFromItsStoredStateAfterARestart() {
        var f = fleet(3, Behavior.HEALTHY);
        f.deploy(DeployStrategy.ROLLING, 1);
        for (int i = 0; i < 4; i++) {
            f.step();
            f.tick(TICK.toSeconds());
        }
        assertThat(f.versions()).contains(1L, 2L); // half way

        // A new server reads the same rows: nothing else carries over, so the next step is the same as the old one's.
        var reloaded = new Reconciler.FleetSize("alpha", "web", 3, List.copyOf(f.machines),
                Optional.of(f.deployment.orElseThrow()));
        assertThat(Deploys.step(reloaded, reloaded.deployment().orElseThrow(), f.now))
                .isEqualTo(Deploys.step(f.size(), f.deployment.orElseThrow(), f.now));
        assertThat(f.run().status()).isEqualTo(DeployStatus.SUCCEEDED);
        assertThat(f.versions()).containsExactly(2L, 2L, 2L);
    }

    @Test
    void aRollbackWhoseMachinesFailTooEndsFailedAndStops() {
        var f = new Fleet(2, Map.of(1L, Behavior.HEALTHY, 2L, Behavior.CRITICAL));
        f.deploy(DeployStrategy.IMMEDIATE, 1);
        // The old release breaks too (its image is gone, say): the rollback cannot bring it back.
        var broken = new Fleet(2, Map.of(1L, Behavior.CRITICAL, 2L, Behavior.CRITICAL));
        broken.machines = f.machines;
        broken.version = f.version;
        broken.deployment = f.deployment;

        Deployment end = broken.run();

        assertThat(end.status()).isEqualTo(DeployStatus.FAILED);
        assertThat(end.message()).startsWith("rollback to release 1: ");
    }

    @ParameterizedTest(name = "{0} of a {1} release")
    @CsvSource(delimiter = '|', value = {
        "ROLLING | HEALTHY | started, replacing m1, healthy m4, replacing m2, healthy m5, replacing m3, healthy m6, "
                + "succeeded",
        "ROLLING | CRITICAL | started, replacing m1, rolling_back m4, replacing m4, healthy m5, rolled_back",
        "CANARY | HEALTHY | started, creating, healthy m4, removing m1, replacing m2, healthy m5, replacing m3, "
                + "healthy m6, succeeded",
        "BLUEGREEN | HEALTHY | started, creating, healthy m4, healthy m5, healthy m6, removing m1, removing m2, "
                + "removing m3, succeeded",
        "IMMEDIATE | HEALTHY | started, replacing m1, replacing m2, replacing m3, healthy m4, healthy m5, healthy m6, "
                + "succeeded",
    })
    void eachDeployRecordsItsStepsInTheOrderTheyHappen(DeployStrategy strategy, Behavior next, String expected) {
        var f = fleet(3, next);
        f.deploy(strategy, 1);

        f.run();

        assertThat(String.join(", ", f.steps())).isEqualTo(expected);
        var steps = f.current().steps();
        assertThat(steps).extracting(DeployStep::at).isSorted();
        assertThat(steps.getLast().at()).isEqualTo(f.current().updatedAt());
    }

    @Test
    void aStepSaysWhatHappenedToWhichMachineAndWhy() {
        var f = fleet(3, Behavior.CRITICAL);
        f.deploy(DeployStrategy.ROLLING, 1);

        Deployment end = f.run();

        var steps = end.steps();
        assertThat(steps.get(1).message()).isEqualTo("replacing machine m1 of release 1 with one of release 2");
        assertThat(steps.get(2).message()).as("the turn back: the deployment's message").isEqualTo(end.message())
                .isEqualTo("release 2: machine m4 not healthy after 60 s (running, check http critical)");
        assertThat(steps.get(2).at()).isEqualTo(steps.get(1).at().plusSeconds(WAIT_S));
        assertThat(steps.get(3).message()).isEqualTo("replacing machine m4 of release 2 with one of release 1");
        assertThat(steps.get(4).message()).isEqualTo("machine m5 of release 1 is healthy");
        assertThat(steps.get(4).at()).as("once booted").isAfterOrEqualTo(steps.get(3).at().plus(BOOT));
        assertThat(steps.getLast().message()).isEqualTo("back on release 1, every machine healthy");

        var bluegreen = fleet(2, Behavior.HEALTHY);
        bluegreen.deploy(DeployStrategy.BLUEGREEN, 1);
        bluegreen.step();
        assertThat(bluegreen.current().steps().getLast().message())
                .isEqualTo("creating 2 machines of release 2 beside the old ones");
    }

    @Test
    void aRollbackWhoseMachinesFailRecordsTheFailureNamingTheMachine() {
        var f = new Fleet(1, new java.util.HashMap<>(Map.of(1L, Behavior.HEALTHY, 2L, Behavior.CRASH)));
        f.deploy(DeployStrategy.IMMEDIATE, 1);
        f.releases.put(1L, Behavior.CRASH); // the old release cannot come back either

        Deployment end = f.run();

        assertThat(end.status()).isEqualTo(DeployStatus.FAILED);
        assertThat(f.steps()).containsExactly("started", "replacing m1", "rolling_back m2", "replacing m2",
                "failed m3");
        assertThat(end.steps().getLast().message()).isEqualTo(end.message())
                .isEqualTo("rollback to release 1: machine m3 failed: exited 1");
    }

    @Test
    void aCreateThatKeepsFailingIsRecordedOnce() {
        var f = fleet(2, Behavior.HEALTHY);
        f.deploy(DeployStrategy.BLUEGREEN, 1);
        f.full = true;

        for (int i = 0; i < 5; i++) {
            f.step();
            f.tick(TICK.toSeconds());
        }

        assertThat(f.steps()).containsExactly("started", "creating");
    }

    /** A fleet keeping 2 machines in ams and 1 in ord, whose release 2 behaves as {@code next}. */
    private static Fleet amsAndOrd(Behavior next) {
        return new Fleet(new FleetScale.PerRegion(new TreeMap<>(Map.of("ams", 2, "ord", 1))),
                Map.of(1L, Behavior.HEALTHY, 2L, next));
    }

    @ParameterizedTest
    @EnumSource(DeployStrategy.class)
    void aDeployOfAFleetWithACountPerRegionKeepsEachRegionsCountAndReplacesMachinesInTheirRegion(
            DeployStrategy strategy) {
        var f = amsAndOrd(Behavior.HEALTHY);
        f.deploy(strategy, 1);

        assertThat(f.run().status()).isEqualTo(DeployStatus.SUCCEEDED);

        assertThat(f.byRegion()).isEqualTo(Map.of("ams", List.of(2L, 2L), "ord", List.of(2L)));
        assertThat(f.regionsMade).containsOnly("ams", "ord");
        if (strategy == DeployStrategy.ROLLING) {
            assertThat(f.minHealthy).as("count - max_unavailable over the whole fleet").isEqualTo(2);
            assertThat(f.maxMachines).isEqualTo(3);
        }
    }

    @Test
    void aBadReleaseOfAFleetWithACountPerRegionRollsBackRegionByRegion() {
        var f = amsAndOrd(Behavior.CRITICAL);
        f.deploy(DeployStrategy.ROLLING, 1);

        assertThat(f.run().status()).isEqualTo(DeployStatus.ROLLED_BACK);

        assertThat(f.byRegion()).isEqualTo(Map.of("ams", List.of(1L, 1L), "ord", List.of(1L)));
        assertThat(f.minHealthy).isGreaterThanOrEqualTo(2);
    }

    @Test
    void creationsThatKeepFailingInSeveralRegionsAreRecordedOnceEach() {
        var f = amsAndOrd(Behavior.HEALTHY);
        f.deploy(DeployStrategy.BLUEGREEN, 1);
        f.full = true;

        for (int i = 0; i < 5; i++) {
            f.step();
            f.tick(TICK.toSeconds());
        }

        assertThat(f.current().steps()).extracting(DeployStep::message).containsExactly("deploying",
                "creating 2 machines of release 2 in region ams beside the old ones",
                "creating 1 machine of release 2 in region ord beside the old ones");
    }

    @Test
    void aMachineWithoutChecksIsHealthyOnceRunning() {
        var spec = MachineSpec.builder("web:1").guest(1, 256).build();
        var m = new MachineRow("m1", "alpha", "web", "m1", spec, null, Map.of(), MachineState.RUNNING, null, 1, "n1",
                new Reported(MachineState.RUNNING, null, null, null, null, List.of()), 1, START, START, 1, 1);
        assertThat(m.healthy()).isTrue();
    }
}
