package dev.bolero.cli;

import dev.bolero.api.wire.ClusterMachine;
import dev.bolero.api.wire.DeployPolicy;
import dev.bolero.api.wire.DeploySpec;
import dev.bolero.api.wire.DeployStatus;
import dev.bolero.api.wire.DeployStep;
import dev.bolero.api.wire.DeployStrategy;
import dev.bolero.api.wire.Deployment;
import dev.bolero.api.wire.Fleet;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.api.wire.Release;
import dev.bolero.client.BoleroClient;
import dev.bolero.client.ClientException;
import dev.bolero.core.CheckStatus;
import dev.bolero.core.MachineState;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The verbs of a fleet's releases: deploy one, roll back to one, list them. */
final class DeployCommands {
    private DeployCommands() {}

    /** The flags of how a deployment proceeds, and whether to wait for its end. */
    static final class PolicyFlags {
        @Option(names = "--strategy", description = "rolling (default), canary, bluegreen or immediate")
        DeployStrategy strategy;
        @Option(names = "--max-unavailable", description = "machines a rolling step replaces at once (default 1)")
        Integer maxUnavailable;
        @Option(names = "--wait-timeout", paramLabel = "S",
                description = "seconds each new machine has to pass its checks before the deploy rolls back")
        Integer waitTimeoutS;
        @Option(names = {"-d", "--detach"}, description = "print the deployment and return without waiting for it")
        boolean detach;

        DeployPolicy policy() {
            return over(new DeployPolicy(null, null, null));
        }

        /** The flags given over {@code base}. */
        DeployPolicy over(DeployPolicy base) {
            return new DeployPolicy(strategy != null ? strategy : base.strategy(),
                    maxUnavailable != null ? maxUnavailable : base.maxUnavailable(),
                    waitTimeoutS != null ? waitTimeoutS : base.waitTimeoutS());
        }
    }

    @Command(name = "deploy", mixinStandardHelpOptions = true,
            description = "Deploy a new release of a fleet: the flags given over its current config (env merged key by "
                    + "key), or over the config of an app manifest (-c bolero.toml), which also creates the fleet when "
                    + "it is missing and sets its count, region, strategy and node labels. The control plane replaces "
                    + "its machines under the strategy and rolls back on its own when new machines fail their checks; "
                    + "this prints each step and exits non-zero on a rollback.")
    static final class Deploy implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Mixin MachineFlags flags;
        @Mixin PolicyFlags policy;
        @Parameters(index = "0", arity = "0..1", paramLabel = "FLEET",
                description = "the fleet; with -c, the manifest's name when absent") String fleet;
        @Option(names = "--image", description = "the image of the new release") String image;
        @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "an app manifest (bolero.toml): the "
                + "fleet, its machine config and its [deploy] policy; the other flags apply over it") Path manifest;

        @Override
        public Integer call() throws InterruptedException {
            var client = o.client();
            if (manifest == null) {
                if (fleet == null) throw new IllegalArgumentException("deploy: give a FLEET or -c bolero.toml");
                return follow(o, policy.detach, client.deploy(o.namespace(), fleet,
                        spec(client.fleet(o.namespace(), fleet))));
            }
            AppManifest app = app(AppManifest.read(manifest));
            String name = app.fleet().name();
            Optional<Fleet> current;
            try {
                current = Optional.of(client.fleet(o.namespace(), name));
            } catch (ClientException e) {
                if (!"not_found".equals(e.code())) throw e;
                current = Optional.empty();
            }
            var out = new PrintWriter(System.out, true);
            if (current.isEmpty()) {
                Fleet created = client.createFleet(o.namespace(), app.fleet());
                out.printf("created fleet %s: release %d, %s machines%n", created.name(), created.configVersion(),
                        ClusterCommands.desired(created.scale()));
                return policy.detach ? 0 : awaitFleet(o, created, app.deploy().waitTimeoutS());
            }
            FleetSpec placed = placement(current.get(), app.fleet());
            if (placed != null) {
                client.updateFleet(o.namespace(), name, placed);
                out.printf("updated fleet %s: count %s%s, strategy %s%n", name,
                        ClusterCommands.desired(placed.scale()),
                        placed.region() == null ? "" : ", region " + placed.region(), placed.strategy().wireName());
            }
            return follow(o, policy.detach, client.deploy(o.namespace(), name,
                    DeploySpec.of(app.fleet().config(), app.deploy())));
        }

        /** The deployment of the flags over fleet {@code current}'s config. */
        DeploySpec spec(Fleet current) {
            return DeploySpec.of(flags.overlay(image, current.config()), policy.policy());
        }

        /**
         * Manifest {@code file} with the flags over it: the machine flags over its config, the policy flags over its
         * {@code [deploy]}.
         *
         * @throws IllegalArgumentException when FLEET is given and is not the manifest's fleet
         */
        AppManifest app(AppManifest file) {
            FleetSpec f = file.fleet();
            if (fleet != null && !fleet.equals(f.name())) {
                throw new IllegalArgumentException("deploy " + fleet + ": " + manifest + " describes fleet " + f.name());
            }
            return new AppManifest(f.withConfig(flags.overlay(image, f.config())), policy.over(file.deploy()));
        }

        /**
         * The update that gives fleet {@code current} the placement of {@code wanted} (count, region, strategy and node
         * labels take effect at once; its config stays, for the deployment to change); null when they are the same.
         */
        static FleetSpec placement(Fleet current, FleetSpec wanted) {
            var placed = wanted.withName(current.name()).withConfig(current.config());
            boolean same = placed.strategy() == current.strategy() && Objects.equals(placed.region(), current.region())
                    && placed.nodeLabels().equals(current.nodeLabels())
                    && Objects.equals(placed.scale(), current.scale());
            return same ? null : placed;
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true,
            description = "Deploy an earlier release of a fleet again: the one before its current release, or --to N.")
    static final class Rollback implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Mixin PolicyFlags policy;
        @Parameters(index = "0", paramLabel = "FLEET") String fleet;
        @Option(names = "--to", paramLabel = "VERSION", description = "the release to go back to") Long to;

        @Override
        public Integer call() throws InterruptedException {
            var client = o.client();
            long version = to != null ? to : previous(client.releases(o.namespace(), fleet));
            return follow(o, policy.detach, client.deploy(o.namespace(), fleet, DeploySpec.of(version,
                    policy.policy())));
        }

        /** The newest release older than the current one of {@code releases}. */
        long previous(List<Release> releases) {
            long current = releases.stream().filter(Release::current).mapToLong(Release::version).findFirst()
                    .orElseThrow(() -> new IllegalStateException("rollback " + fleet + ": it has no current release"));
            return releases.stream().mapToLong(Release::version).filter(v -> v < current).max()
                    .orElseThrow(() -> new IllegalStateException("rollback " + fleet + ": release " + current
                            + " is its first"));
        }
    }

    @Command(name = "releases", mixinStandardHelpOptions = true, description = "List a fleet's releases, newest first.")
    static final class Releases implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Parameters(index = "0", paramLabel = "FLEET") String fleet;

        @Override
        public Integer call() {
            var list = o.client().releases(o.namespace(), fleet);
            o.print(list, list, List.of("VERSION", "CURRENT", "IMAGE", "CREATED"),
                    r -> Arrays.asList(r.version(), r.current() ? "*" : "",
                            r.config() == null ? null : r.config().image(), r.createdAt()));
            return 0;
        }
    }

    /**
     * Waits until new fleet {@code f} has its count of machines running with every check passing, printing how many do
     * as that changes: 0 then; 1 (the reason on standard error) when one of them fails or {@code timeoutS} seconds pass
     * first.
     */
    static int awaitFleet(ClientOptions o, Fleet f, int timeoutS) throws InterruptedException {
        var out = new PrintWriter(System.out, true);
        BoleroClient client = o.client();
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(timeoutS);
        String last = "";
        while (true) {
            List<ClusterMachine> machines = client.machines(o.namespace(), f.name(), Set.of());
            long healthy = machines.stream().filter(DeployCommands::healthy).count();
            String line = String.format("%d of %d machines running with their checks passing", healthy, f.count());
            if (!line.equals(last)) out.println(line);
            last = line;
            if (healthy >= f.count()) return 0;
            var failed = machines.stream().filter(m -> m.state() == MachineState.FAILED).findFirst();
            if (failed.isPresent()) {
                System.err.println("bolero: fleet " + f.name() + ": machine " + failed.get().id() + " failed: "
                        + failed.get().error());
                return 1;
            }
            if (System.nanoTime() > deadline) {
                System.err.println("bolero: fleet " + f.name() + ": " + healthy + " of " + f.count()
                        + " machines running with their checks passing after " + timeoutS + " s");
                return 1;
            }
            Thread.sleep(1000);
        }
    }

    /** Whether {@code m} runs and every check of its config has passed. */
    private static boolean healthy(ClusterMachine m) {
        return m.state() == MachineState.RUNNING && m.checks().size() == m.config().checks().size()
                && m.checks().stream().allMatch(c -> c.status() == CheckStatus.Status.PASSING);
    }

    /**
     * Prints deployment {@code d} and, unless {@code detach}, each of its steps as it is recorded and how many of the
     * fleet's machines run the release it is reaching, until it ends: 0 when it succeeded, 1 when it rolled back or
     * failed (its message on standard error).
     */
    static int follow(ClientOptions o, boolean detach, Deployment d) throws InterruptedException {
        var out = new PrintWriter(System.out, true);
        out.printf("deployment %s of %s: release %d -> %d (%s)%n", d.id(), d.fleet(), d.fromVersion(), d.toVersion(),
                d.policy().strategy().wireName());
        if (detach) return 0;
        BoleroClient client = o.client();
        String last = "";
        int shown = 0;
        while (true) {
            d = client.deployment(o.namespace(), d.fleet(), d.id());
            for (DeployStep step : d.steps().subList(shown, d.steps().size())) {
                out.printf("%s %s: %s%n", step.at(), step.kind().wireName(), step.message());
            }
            shown = d.steps().size();
            if (!d.status().active()) break;
            long target = d.status() == DeployStatus.ROLLING_BACK ? d.fromVersion() : d.toVersion();
            List<ClusterMachine> machines = client.machines(o.namespace(), d.fleet(), Set.of());
            long onTarget = machines.stream().filter(m -> m.configVersion() == target).count();
            long running = machines.stream()
                    .filter(m -> m.configVersion() == target && m.state() == MachineState.RUNNING).count();
            String line = String.format("%s: %d machines, %d on release %d, %d of those running", d.status()
                    .wireName(), machines.size(), onTarget, target, running);
            if (!line.equals(last)) out.println(line);
            last = line;
            Thread.sleep(1000);
        }
        if (d.status() == DeployStatus.SUCCEEDED) return 0;
        System.err.println("bolero: deploy " + d.fleet() + " " + d.status().wireName() + ": " + d.message());
        return 1;
    }
}
