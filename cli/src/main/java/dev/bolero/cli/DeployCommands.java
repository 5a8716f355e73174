package dev.bolero.cli;

import dev.bolero.api.wire.ClusterMachine;
import dev.bolero.api.wire.DeployPolicy;
import dev.bolero.api.wire.DeploySpec;
import dev.bolero.api.wire.DeployStatus;
import dev.bolero.api.wire.DeployStrategy;
import dev.bolero.api.wire.Deployment;
import dev.bolero.api.wire.Fleet;
import dev.bolero.api.wire.Release;
import dev.bolero.client.BoleroClient;
import dev.bolero.core.MachineState;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
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
            return new DeployPolicy(strategy, maxUnavailable, waitTimeoutS);
        }
    }

    @Command(name = "deploy", mixinStandardHelpOptions = true,
            description = "Deploy a new release of a fleet: the flags given over its current config (env merged key by "
                    + "key). The control plane replaces its machines under the strategy and rolls back on its own when "
                    + "new machines fail their checks; this prints its progress and exits non-zero on a rollback.")
    static final class Deploy implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Mixin MachineFlags flags;
        @Mixin PolicyFlags policy;
        @Parameters(index = "0", paramLabel = "FLEET") String fleet;
        @Option(names = "--image", description = "the image of the new release") String image;

        @Override
        public Integer call() throws InterruptedException {
            var client = o.client();
            return follow(o, policy.detach, client.deploy(o.namespace(), fleet,
                    spec(client.fleet(o.namespace(), fleet))));
        }

        /** The deployment of the flags over fleet {@code current}'s config. */
        DeploySpec spec(Fleet current) {
            return DeploySpec.of(flags.overlay(image, current.config()), policy.policy());
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
     * Prints deployment {@code d} and, unless {@code detach}, its progress until it ends: 0 when it succeeded, 1 when
     * it rolled back or failed (its message on standard error).
     */
    static int follow(ClientOptions o, boolean detach, Deployment d) throws InterruptedException {
        var out = new PrintWriter(System.out, true);
        out.printf("deployment %s of %s: release %d -> %d (%s)%n", d.id(), d.fleet(), d.fromVersion(), d.toVersion(),
                d.policy().strategy().wireName());
        if (detach) return 0;
        BoleroClient client = o.client();
        String last = "";
        while (true) {
            d = client.deployment(o.namespace(), d.fleet(), d.id());
            long target = d.status() == DeployStatus.ROLLING_BACK ? d.fromVersion() : d.toVersion();
            List<ClusterMachine> machines = client.machines(o.namespace(), d.fleet(), Set.of());
            long onTarget = machines.stream().filter(m -> m.configVersion() == target).count();
            long running = machines.stream()
                    .filter(m -> m.configVersion() == target && m.state() == MachineState.RUNNING).count();
            String line = String.format("%s: %d machines, %d on release %d, %d of those running", d.status()
                    .wireName(), machines.size(), onTarget, target, running);
            if (!line.equals(last)) out.println(line);
            last = line;
            if (!d.status().active()) break;
            Thread.sleep(1000);
        }
        if (d.status() == DeployStatus.SUCCEEDED) return 0;
        System.err.println("bolero: deploy " + d.fleet() + " " + d.status().wireName() + ": " + d.message());
        return 1;
    }
}
