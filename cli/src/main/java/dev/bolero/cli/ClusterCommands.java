package dev.bolero.cli;

import dev.bolero.api.wire.ClusterMachine;
import dev.bolero.api.wire.CreateClusterMachine;
import dev.bolero.api.wire.UpdateClusterMachine;
import dev.bolero.api.wire.Fleet;
import dev.bolero.api.wire.FleetScale;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.api.wire.FleetStrategy;
import dev.bolero.api.wire.Namespace;
import dev.bolero.api.wire.NodeInfo;
import dev.bolero.client.BoleroClient;
import dev.bolero.client.ClientException;
import dev.bolero.client.ExecClient;
import dev.bolero.client.LogOptions;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.core.ValidationException;
import java.io.PrintWriter;
import java.net.URI;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The verbs that talk to the control plane's {@code /v1} API, Docker-like where Docker has the verb. */
final class ClusterCommands {
    private ClusterCommands() {}

    private static final List<String> MACHINE_COLUMNS = List.of("ID", "NAME", "FLEET", "STATE", "DESIRED", "NODE",
            "AGE", "PORTS", "IMAGE");

    private static List<Object> machineRow(ClusterMachine m) {
        String ports = m.config().services().stream().map(s -> s.port() + "->" + s.internalPort() + "/" + s.protocol())
                .collect(java.util.stream.Collectors.joining(","));
        return Arrays.asList(m.id(), m.name(), m.fleet(), m.state().wireName(), m.desiredState().wireName(),
                m.nodeName(), age(java.time.Duration.between(m.createdAt(), java.time.Instant.now())), ports.isEmpty() ? null : ports,
                m.config().image());
    }

    /** {@code 45s}, {@code 12m}, {@code 3h}, {@code 5d}: how long ago, as docker's columns say it. */
    static String age(java.time.Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s < 60) return s + "s";
        if (s < 3600) return s / 60 + "m";
        if (s < 86400) return s / 3600 + "h";
        return s / 86400 + "d";
    }

    static void printMachine(ClientOptions o, ClusterMachine m) {
        o.print(m, List.of(m), MACHINE_COLUMNS, ClusterCommands::machineRow);
    }

    /** The id of the machine {@code ref} (an id, a unique id prefix or a name) names in the namespace. */
    private static String machineId(ClientOptions o, String ref) {
        return MachineRefs.of(o.client(), o.namespace()).id(ref);
    }

    /**
     * Runs {@code action} on the id of each machine {@code refs} names, carrying on past a failure, which is printed
     * as one line.
     *
     * @return the exit code of the first failure, 0 when none failed
     */
    static int eachMachine(ClientOptions o, List<String> refs, BiConsumer<BoleroClient, String> action) {
        var client = o.client();
        var machines = MachineRefs.of(client, o.namespace());
        var err = new PrintWriter(System.err, true);
        int status = 0;
        for (String ref : refs) {
            try {
                action.accept(client, machines.id(ref));
            } catch (RuntimeException e) {
                int code = Main.report(e, err);
                if (status == 0) status = code;
            }
        }
        return status;
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Create and start a machine from an image, or from its fleet's config.")
    static final class Run implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Mixin MachineFlags flags;
        @Parameters(index = "0", arity = "0..1", paramLabel = "IMAGE",
                description = "the image; the fleet's config's when absent") String image;
        @Parameters(index = "1..*", arity = "0..*", paramLabel = "CMD",
                description = "the command, instead of the image's Cmd (put -- before it when it has options)")
        List<String> command = List.of();
        @Option(names = "--entrypoint", description = "instead of the image's Entrypoint") String entrypoint;
        @Option(names = {"-d", "--detach"}, description = "return once the machine is created, without waiting for "
                + "it to run") boolean detach;
        @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "300",
                description = "how long to wait for the machine to run (default ${DEFAULT-VALUE})") int waitSeconds;
        @Option(names = "--name") String name;
        @Option(names = "--region", description = "place it on a node of this region (instead of the fleet's)")
        String region;
        @Option(names = "--fleet", defaultValue = "default", description = "fleet (created when absent; default ${DEFAULT-VALUE}); its config is the base the flags go over") String fleet;
        @Option(names = {"-i", "--interactive"}, description = "keep the workload's stdin open and pass this "
                + "process's stdin to it; stay attached until it exits, and exit with its status") boolean interactive;
        @Option(names = {"-t", "--tty"}, description = "run the workload on a terminal attached to this one (in raw "
                + "mode: keys such as ^C go to the workload); exit with its status") boolean tty;

        @Override
        public Integer call() throws InterruptedException {
            var spec = spec();
            var client = o.client();
            String ns = o.namespace();
            try {
                client.fleet(ns, fleet);
            } catch (ClientException e) {
                if (!"not_found".equals(e.code())) throw e;
                if (image == null) throw new IllegalArgumentException("IMAGE is required: fleet " + fleet + " does not exist");
                client.createFleet(ns, new FleetSpec(fleet, null, null, Map.of()));
            }
            ClusterMachine created = client.createMachine(ns, fleet, spec);
            if (detach) {
                printMachine(o, created);
                return 0;
            }
            ClusterMachine m = client.await(ns, created.id(), Set.of(MachineState.RUNNING, MachineState.STOPPED,
                    MachineState.FAILED), java.time.Duration.ofSeconds(waitSeconds));
            if (interactive || tty) return attach(client, ns, m);
            printMachine(o, m);
            if (m.state() == MachineState.FAILED) {
                System.err.println("bolero: machine " + m.id() + " failed: " + m.error());
                return 1;
            }
            return 0;
        }

        /**
         * Attaches this process to the workload of machine {@code m} until it exits ({@code -i}, {@code -t}): the
         * machine's life is the command's. With {@code --rm} the machine is deleted once it has stopped (by the CLI:
         * see {@link #spec}).
         *
         * @return the workload's exit code; 1 when the machine failed
         */
        private int attach(BoleroClient client, String ns, ClusterMachine m) throws InterruptedException {
            int status = session(client, ns, m);
            if (flags.remove) {
                client.await(ns, m.id(), Set.of(MachineState.STOPPED, MachineState.FAILED),
                        java.time.Duration.ofSeconds(waitSeconds));
                client.delete(ns, m.id());
            }
            return status;
        }

        /**
         * The attached session with machine {@code m}'s workload; a workload that ended before the attach has its
         * log printed instead.
         *
         * @return the workload's exit code; 1 when the machine failed
         */
        private int session(BoleroClient client, String ns, ClusterMachine m) throws InterruptedException {
            if (m.state() == MachineState.RUNNING) {
                ClientOptions.Endpoint e = o.endpoint();
                URI uri = TerminalSession.websocket(e.server(), "/v1/namespaces/" + TerminalSession.enc(ns)
                        + "/machines/" + TerminalSession.enc(m.id()) + "/attach");
                try {
                    return TerminalSession.run("run", interactive, tty, size -> {
                        var session = ExecClient.attach(uri, Optional.of("Bearer " + e.token()), TerminalSession.STDIO);
                        if (tty) session.resize(size.rows(), size.cols());
                        return session;
                    });
                } catch (ClientException refused) {
                    if (!"conflict".equals(refused.code()) && !"failed_precondition".equals(refused.code())) {
                        throw refused;
                    }
                    // it ended before the attach: its end and log below
                }
                m = client.await(ns, m.id(), Set.of(MachineState.STOPPED, MachineState.FAILED),
                        java.time.Duration.ofSeconds(waitSeconds));
            }
            client.logs(ns, m.id(), LogOptions.all(), System.out);
            if (m.state() == MachineState.FAILED) {
                System.err.println("bolero: machine " + m.id() + " failed: " + m.error());
                return 1;
            }
            return m.exitCode() == null ? 0 : m.exitCode();
        }

        /**
         * The body of the create: the flags, the command and entrypoint over them ({@code -t} and {@code -i} too),
         * started at once (the server puts their config over the fleet's). An attached run ({@code -i}, {@code -t})
         * is not restarted unless {@code --restart} says so: its life is the command's. Its {@code --rm} is the CLI's
         * delete once it has the exit status, not {@code auto_destroy}, which could take the machine away before the
         * CLI has attached (a command that ends at once).
         */
        CreateClusterMachine spec() {
            var config = flags.overlay(image);
            if ((interactive || tty) && flags.restart == null) {
                config = config.over(MachineSpec.builder().restart(MachineSpec.Restart.NEVER).overlay());
            }
            if (interactive || tty) config = MachineSpec.builder().autoDestroy(false).overlay().over(config);
            if (entrypoint != null || !command.isEmpty() || interactive || tty) {
                var init = new MachineSpec.Init(entrypoint == null ? null : List.of(entrypoint),
                        command.isEmpty() ? null : command, null, null, tty ? true : null,
                        interactive ? true : null);
                config = MachineSpec.builder().init(init).overlay().over(config);
            }
            return new CreateClusterMachine(name, true, region, null, config);
        }
    }

    private static final Pattern PUBLISH = Pattern.compile("(\\d{1,5}):(\\d{1,5})(?:/(tcp|udp))?");
    private static final Pattern RESTART = Pattern.compile("([a-z-]+)(?::(\\d{1,4}))?");

    /**
     * Parses {@code -p HOSTPORT:PORT[/tcp|udp]}.
     *
     * @throws IllegalArgumentException (a usage error) naming the bad value
     */
    static MachineSpec.Service servicePort(String spec) {
        var m = PUBLISH.matcher(spec);
        if (!m.matches()) {
            throw new IllegalArgumentException("-p " + spec + ": expected HOSTPORT:PORT, optionally with /tcp or /udp");
        }
        var service = new MachineSpec.Service(m.group(3) == null ? "tcp" : m.group(3), Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(1)));
        try {
            MachineSpec.builder().service(service).overlay();
            return service;
        } catch (ValidationException e) {
            throw new IllegalArgumentException("-p " + spec + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses {@code --restart no|on-failure|always[:N]}.
     *
     * @throws IllegalArgumentException (a usage error) naming the bad value
     */
    static MachineSpec.Restart restartPolicy(String spec) {
        var m = RESTART.matcher(spec);
        try {
            if (!m.matches()) throw new ValidationException("expected no, on-failure or always, optionally with :N");
            var restart = new MachineSpec.Restart(m.group(1), m.group(2) == null ? null : Integer.valueOf(m.group(2)));
            MachineSpec.builder().restart(restart).overlay();
            return restart;
        } catch (ValidationException e) {
            throw new IllegalArgumentException("--restart " + spec + ": " + e.getMessage(), e);
        }
    }

    @Command(name = "ps", mixinStandardHelpOptions = true, description = "List machines.")
    static final class Ps implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Option(names = "--fleet") String fleet;
        @Option(names = {"-a", "--all"}, description = "include machines that are neither meant to run nor "
                + "suspended") boolean all;
        @Option(names = {"-q", "--quiet"}, description = "print only the ids") boolean quiet;
        @Option(names = "--metadata", paramLabel = "K=V", description = "only machines with this metadata entry; "
                + "repeatable (all must match)") Map<String, String> metadata = new java.util.LinkedHashMap<>();
        @Option(names = {"-f", "--filter"}, paramLabel = "KEY=VALUE", description = "only machines that match: "
                + "state, fleet, name (part of it), node (node name, or node id or prefix), id (prefix), label or metadata (K or "
                + "K=V); repeatable: any value of one key, every key (every label)") List<String> filters =
                new java.util.ArrayList<>();

        @Override
        public Integer call() {
            var given = new java.util.ArrayList<>(filters);
            if (fleet != null) given.add("fleet=" + fleet);
            metadata.forEach((k, v) -> given.add("label=" + k + "=" + v));
            var filter = MachineFilter.parse(given);
            var machines = o.client().machines(o.namespace(), filter.fleet().orElse(null), filter.states(),
                    filter.metadata()).stream().filter(filter::test)
                    .filter(m -> all || filter.namesState() || listedByDefault(m)).toList();
            if (quiet) {
                machines.forEach(m -> System.out.println(m.id()));
            } else {
                o.print(machines, machines, MACHINE_COLUMNS, ClusterCommands::machineRow);
            }
            return 0;
        }

        /**
         * Running, or on its way to or from running (a machine just created to run shows at once), or suspended (it
         * holds its share of its node, and a start resumes it).
         */
        static boolean listedByDefault(ClusterMachine m) {
            return m.desiredState() == MachineState.RUNNING || m.desiredState() == MachineState.SUSPENDED
                    || m.state() == MachineState.STARTING || m.state() == MachineState.RUNNING
                    || m.state() == MachineState.STOPPING || m.state() == MachineState.SUSPENDED;
        }
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true, description = "Show a machine (JSON).")
    static final class Inspect implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Parameters(paramLabel = "MACHINE", description = "id, unique id prefix or name") String id;

        @Override
        public Integer call() {
            o.output = ClientOptions.Output.JSON;
            printMachine(o, o.client().machine(o.namespace(), machineId(o, id)));
            return 0;
        }
    }

    @Command(name = "logs", mixinStandardHelpOptions = true, description = "Print a machine's log, read from its node.")
    static final class Logs implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Parameters(paramLabel = "MACHINE", arity = "0..1", description = "id, unique id prefix or name") String id;
        @Option(names = "--fleet", description = "every machine of this fleet instead, each line prefixed with its "
                + "machine's name") String fleet;
        @Option(names = {"-f", "--follow"}, description = "keep printing new lines while the machine runs") boolean follow;
        @Option(names = "--tail", paramLabel = "N", description = "only the last N lines") Integer tail;
        @Option(names = "--since", paramLabel = "TIME", description = "only lines from TIME on: RFC 3339 (2026-01-02T15:04:05Z) or Unix seconds") String since;
        @Option(names = {"-t", "--timestamps"}, description = "prefix each line with its time and stream") boolean timestamps;
        @Mixin AgentOption agent;

        @Override
        public Integer call() throws InterruptedException {
            var options = new LogOptions(follow, tail == null ? OptionalInt.empty() : OptionalInt.of(tail),
                    Optional.ofNullable(since), timestamps);
            var node = agent.node();
            if ((id == null) == (fleet == null)) {
                throw new IllegalArgumentException("logs: give a MACHINE or --fleet, not both or neither");
            }
            if (fleet != null) {
                if (node.isPresent()) throw new IllegalArgumentException("logs --fleet: needs the control plane");
                return FleetLogs.print(o.client(), o.namespace(), fleet, options, System.out);
            }
            if (node.isPresent()) {
                new BoleroClient(node.get(), "").nodeLogs(id, options, System.out);
            } else {
                o.client().logs(o.namespace(), machineId(o, id), options, System.out);
            }
            return 0;
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true, description = "Start machines, or resume suspended ones.")
    static final class Start implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Parameters(paramLabel = "MACHINE", arity = "1..*", description = "ids, unique id prefixes or names")
        List<String> ids;

        @Override
        public Integer call() {
            return eachMachine(o, ids, (client, id) -> printMachine(o, client.start(o.namespace(), id)));
        }
    }

    @Command(name = "update", mixinStandardHelpOptions = true, description = "Give a machine a new config under its "
            + "id: the flags given replace those fields of its config; its node rebuilds it and boots it again.")
    static final class Update implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Mixin MachineFlags flags;
        @Parameters(index = "0", paramLabel = "MACHINE", description = "id, unique id prefix or name") String ref;
        @Option(names = "--image", description = "the new image") String image;

        @Override
        public Integer call() {
            var config = flags.overlay(image);
            if (config.equals(MachineSpec.Overlay.EMPTY)) {
                throw new IllegalArgumentException("nothing to update: give --image or a config flag (see --help)");
            }
            printMachine(o, o.client().update(o.namespace(), machineId(o, ref), new UpdateClusterMachine(config)));
            return 0;
        }
    }

    @Command(name = "suspend", mixinStandardHelpOptions = true, description = "Suspend machines: each one's node "
            + "saves its memory and keeps its place; bolero start resumes it.")
    static final class Suspend implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Parameters(paramLabel = "MACHINE", arity = "1..*", description = "ids, unique id prefixes or names")
        List<String> ids;

        @Override
        public Integer call() {
            return eachMachine(o, ids, (client, id) -> printMachine(o, client.suspend(o.namespace(), id)));
        }
    }

    @Command(name = "fork", mixinStandardHelpOptions = true, description = "Make new machines from a live snapshot of "
            + "a running one, which runs on: each clone carries on its memory and processes with an id, address, "
            + "hostname and machine-id of its own.")
    static final class Fork implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Parameters(paramLabel = "MACHINE", description = "an id, a unique id prefix or a name") String ref;
        @Option(names = {"-c", "--count"}, defaultValue = "1", description = "how many clones (default 1; -n is the "
                + "namespace, as for every verb)") int count;

        @Override
        public Integer call() {
            var clones = o.client().fork(o.namespace(), machineId(o, ref), count);
            o.print(clones, clones, MACHINE_COLUMNS, ClusterCommands::machineRow);
            return 0;
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop machines.")
    static final class Stop implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Parameters(paramLabel = "MACHINE", arity = "1..*", description = "ids, unique id prefixes or names")
        List<String> ids;
        @Option(names = {"-s", "--signal"}) String signal;
        @Option(names = {"-t", "--time"}, description = "seconds before the VM is powered off") Integer timeout;

        @Override
        public Integer call() {
            var stop = new MachineSpec.Stop(signal, timeout);
            return eachMachine(o, ids, (client, id) -> printMachine(o, client.stop(o.namespace(), id, stop)));
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = "Delete machines.")
    static final class Rm implements Callable<Integer> {
        /** What {@code rm} refuses without {@code -f}, as docker refuses a running container. */
        private static final Set<MachineState> ACTIVE = Set.of(MachineState.STARTING, MachineState.RUNNING,
                MachineState.STOPPING, MachineState.SUSPENDED);

        @Mixin ClientOptions o;
        @Parameters(paramLabel = "MACHINE", arity = "1..*", description = "ids, unique id prefixes or names")
        List<String> ids;
        @Option(names = {"-f", "--force"}, description = "delete machines that run, start, stop or are suspended too "
                + "(without it those are refused)") boolean force;

        @Override
        public Integer call() {
            return eachMachine(o, ids, (client, id) -> {
                if (!force) {
                    var m = client.machine(o.namespace(), id);
                    if (ACTIVE.contains(m.state())) {
                        throw new IllegalStateException("machine " + id + " is " + m.state().wireName()
                                + ": stop it first, or rm -f");
                    }
                }
                client.delete(o.namespace(), id);
                System.out.println(id);
            });
        }
    }

    @Command(name = "nodes", mixinStandardHelpOptions = true, description = "List nodes, or cordon, uncordon, drain or remove one (admin).")
    static final class Nodes implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Parameters(index = "0", arity = "0..1", paramLabel = "ACTION", description = "ls (default), cordon, uncordon, drain, rm (remove an empty node that is down, cordoned or "
                + "draining, for good)") String action;
        @Parameters(index = "1", arity = "0..1", paramLabel = "NODE") String node;

        @Override
        public Integer call() {
            var client = o.client();
            List<NodeInfo> nodes;
            if (action == null || action.equals("ls")) {
                nodes = client.nodes();
            } else {
                if (node == null) throw new IllegalArgumentException("nodes " + action + ": NODE is required");
                if (action.equals("rm")) {
                    client.removeNode(node);
                    System.out.println("removed node " + node);
                    return 0;
                }
                nodes = List.of(client.nodeAction(node, action));
            }
            o.print(nodes.size() == 1 && action != null && !action.equals("ls") ? nodes.getFirst() : nodes, nodes,
                    List.of("ID", "NAME", "STATE", "CPUS", "MEMORY_MB", "ALLOCATED", "MACHINES", "LABELS"),
                    n -> Arrays.asList(n.id(), n.name(), n.state().wireName(), n.capacity().cpus(),
                            n.capacity().memoryMb(),
                            n.allocated().cpus() + "/" + n.allocated().memoryMb(), n.machines(), n.labels()));
            return 0;
        }
    }

    @Command(name = "namespaces", mixinStandardHelpOptions = true, description = "List namespaces, or create one.")
    static final class Namespaces implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Parameters(index = "0", arity = "0..1", paramLabel = "ACTION", description = "ls (default), create") String action;
        @Parameters(index = "1", arity = "0..1", paramLabel = "NAME") String name;

        @Override
        public Integer call() {
            var client = o.client();
            List<Namespace> list = "create".equals(action) ? List.of(client.createNamespace(required(name, "NAME")))
                    : client.namespaces();
            o.print(list, list, List.of("NAME", "CREATED"), n -> Arrays.asList(n.name(), n.createdAt()));
            return 0;
        }
    }

    @Command(name = "fleets", mixinStandardHelpOptions = true,
            description = "List fleets, or show, create, update or delete one. Create and update take the machine "
                    + "config flags of 'bolero run'; update changes only the flags given (env merged key by key), and "
                    + "only machines created afterwards use the new config.")
    static final class Fleets implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Mixin MachineFlags flags;
        @Parameters(index = "0", arity = "0..1", paramLabel = "ACTION", description = "ls (default), get, create, update, rm") String action;
        @Parameters(index = "1", arity = "0..1", paramLabel = "NAME") String name;
        @Option(names = "--strategy", description = "binpack (default) or spread") FleetStrategy strategy;
        @Option(names = "--region") String region;
        @Option(names = "--image", description = "the image its machines run unless their create names one") String image;
        @Option(names = "--count", description = "how many machines the control plane keeps in it") Integer count;

        @Override
        public Integer call() {
            var client = o.client();
            String ns = o.namespace();
            if ("rm".equals(action)) {
                client.deleteFleet(ns, required(name, "NAME"));
                return 0;
            }
            List<Fleet> list = switch (action == null ? "ls" : action) {
                case "ls" -> client.fleets(ns);
                case "get" -> List.of(client.fleet(ns, required(name, "NAME")));
                case "create" -> List.of(client.createFleet(ns, createSpec()));
                case "update" -> List.of(client.updateFleet(ns, required(name, "NAME"),
                        updateSpec(client.fleet(ns, name))));
                default -> throw new IllegalArgumentException("fleets: unknown action " + action
                        + " (ls, get, create, update, rm)");
            };
            o.print(list.size() == 1 && !"ls".equals(action) ? list.getFirst() : list, list,
                    List.of("NAME", "STRATEGY", "REGION", "IMAGE", "COUNT", "MACHINES", "CONFIG_VERSION", "OUTDATED"),
                    f -> Arrays.asList(f.name(), f.strategy().name().toLowerCase(java.util.Locale.ROOT), f.region(),
                            f.config() == null ? null : f.config().image(), desired(f.scale()), actual(f),
                            f.configVersion(), f.outdatedMachines()));
            if ("get".equals(action)) printRegions(o, list.getFirst());
            return 0;
        }

        /** A new fleet: the flags' placement, machine config and count. */
        FleetSpec createSpec() {
            return new FleetSpec(required(name, "NAME"), strategy, region, Map.of(), flags.overlay(image), count);
        }

        /** {@code current} with the flags given over it; the flags' config goes over its config. */
        FleetSpec updateSpec(Fleet current) {
            var spec = new FleetSpec(current.name(), strategy != null ? strategy : current.strategy(),
                    region != null ? region : current.region(), current.nodeLabels(),
                    flags.overlay(image, current.config()));
            return spec.withScale(count != null ? Optional.of(new FleetScale.Total(count)) : current.scale());
        }
    }

    /** A fleet's desired size as the scale command takes it: {@code 3}, or {@code ams=2 ord=1}; null: by hand. */
    static String desired(Optional<FleetScale> scale) {
        return scale.map(s -> switch (s) {
            case FleetScale.Total t -> Integer.toString(t.count());
            case FleetScale.PerRegion r -> r.counts().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                    .collect(java.util.stream.Collectors.joining(" "));
        }).orElse(null);
    }

    /**
     * How many machines each share of the fleet has, in the form of {@link #desired}: {@code 3}, or
     * {@code ams=2 ord=0} (machines in no region, when a fleet kept per region has any: {@code (none)=1}); null: by
     * hand.
     */
    static String actual(Fleet f) {
        if (f.regions().isEmpty()) return null;
        return f.regions().stream().map(r -> (f.counts() == null ? "" : (r.region() == null ? "(none)" : r.region())
                + "=") + r.machines()).collect(java.util.stream.Collectors.joining(" "));
    }

    /** Prints each share of sized fleet {@code f}, desired beside actual, as a table (nothing more as JSON). */
    static void printRegions(ClientOptions o, Fleet f) {
        if (o.output == ClientOptions.Output.JSON || f.regions().isEmpty()) return;
        System.out.println();
        o.print(f, f.regions(), List.of("REGION", "DESIRED", "MACHINES", "HEALTHY", "WAITING"),
                r -> Arrays.asList(r.region() == null ? (f.counts() == null ? "(any)" : "(none)") : r.region(),
                        r.desired(), r.machines(), r.healthy(), r.waiting()));
    }

    @Command(name = "scale", mixinStandardHelpOptions = true,
            description = "Keep machines in a fleet: the control plane creates or deletes machines to match, region by "
                    + "region. 'scale web 3' keeps 3 in all, in any region; 'scale web 3 --region ams,ord' keeps 3 in "
                    + "each of ams and ord; 'scale web ams=2 ord=1' keeps 2 in ams and 1 in ord. With --region or "
                    + "REGION=COUNT, the regions not named keep their counts when the fleet already keeps one per "
                    + "region (REGION=0 empties one); a fleet that kept one count in all keeps only the regions named.")
    static final class Scale implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Parameters(index = "0", paramLabel = "FLEET") String fleet;
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "COUNT",
                description = "COUNT, or REGION=COUNT for one region (several allowed)") List<String> counts;
        @Option(names = "--region", split = ",", paramLabel = "REGION",
                description = "keep COUNT in each of these regions (comma-separated)") List<String> regions;

        @Override
        public Integer call() {
            var client = o.client();
            Fleet current = client.fleet(o.namespace(), fleet);
            Fleet scaled = client.updateFleet(o.namespace(), fleet,
                    current.spec().withScale(Optional.of(scale(current.scale()))));
            o.print(scaled, List.of(scaled), List.of("NAME", "COUNT", "MACHINES"),
                    f -> Arrays.asList(f.name(), desired(f.scale()), actual(f)));
            printRegions(o, scaled);
            return 0;
        }

        /**
         * The scale the arguments give a fleet whose scale is {@code current}.
         *
         * @throws IllegalArgumentException naming the argument that is neither COUNT nor REGION=COUNT, or a mix
         */
        FleetScale scale(Optional<FleetScale> current) {
            String action = "scale " + fleet;
            var perRegion = new java.util.TreeMap<String, Integer>();
            Integer total = null;
            for (String arg : counts) {
                int eq = arg.indexOf('=');
                if (eq < 0) {
                    if (total != null || counts.size() > 1) {
                        throw new IllegalArgumentException(action + ": give one COUNT, or REGION=COUNT per region");
                    }
                    total = number(action, arg);
                } else {
                    perRegion.put(arg.substring(0, eq), number(action, arg.substring(eq + 1)));
                }
            }
            if (total != null && (regions == null || regions.isEmpty())) return new FleetScale.Total(total);
            if (total != null) {
                for (String r : regions) perRegion.put(r, total);
            } else if (regions != null) {
                throw new IllegalArgumentException(action + ": --region goes with one COUNT, not with REGION=COUNT");
            }
            if (current.orElse(null) instanceof FleetScale.PerRegion kept) {
                var merged = new java.util.TreeMap<>(kept.counts());
                merged.putAll(perRegion);
                return new FleetScale.PerRegion(merged);
            }
            return new FleetScale.PerRegion(perRegion);
        }

        private static int number(String action, String text) {
            if (!text.matches("[0-9]{1,9}")) {
                throw new IllegalArgumentException(action + ": a count must be a whole number from 0, got '" + text
                        + "'");
            }
            return Integer.parseInt(text);
        }
    }

    @Command(name = "secrets", mixinStandardHelpOptions = true,
            description = "Set, list or remove the namespace's secrets (values are write-only).")
    static final class Secrets implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Parameters(index = "0", paramLabel = "ACTION", description = "set, ls or rm") String action;
        @Parameters(index = "1", arity = "0..1", paramLabel = "NAME") String name;
        @Option(names = "--value", description = "the value (read from standard input when absent, so it stays out "
                + "of the shell's history)") String value;
        @Option(names = "--roll", description = "with set: then deploy the fleets whose config uses the secret again, "
                + "one machine at a time, so their machines boot with the new value") boolean roll;

        @Override
        public Integer call() throws java.io.IOException {
            var client = o.client();
            String ns = o.namespace();
            switch (action) {
                case "set" -> {
                    String v = value != null ? value
                            : new String(System.in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                                    .stripTrailing();
                    var info = client.setSecret(ns, required(name, "NAME"), v);
                    o.print(info, List.of(info), SECRET_COLUMNS, ClusterCommands::secretRow);
                    if (roll) {
                        for (var d : client.rollSecret(ns, name)) {
                            System.out.printf("deployment %s of %s: release %d -> %d%n", d.id(), d.fleet(),
                                    d.fromVersion(), d.toVersion());
                        }
                    }
                }
                case "ls" -> {
                    var list = client.secrets(ns);
                    o.print(list, list, SECRET_COLUMNS, ClusterCommands::secretRow);
                }
                case "rm" -> client.deleteSecret(ns, required(name, "NAME"));
                default -> throw new IllegalArgumentException("secrets: unknown action " + action + " (set, ls, rm)");
            }
            return 0;
        }
    }

    private static final List<String> SECRET_COLUMNS = List.of("NAME", "VERSION", "DIGEST", "UPDATED");

    private static List<Object> secretRow(dev.bolero.api.wire.SecretInfo s) {
        return Arrays.asList(s.name(), s.version(), s.digest(), s.updatedAt());
    }

    @Command(name = "volumes", mixinStandardHelpOptions = true,
            description = "Create, list, extend, snapshot, move or remove the namespace's volumes (block devices that "
                    + "outlive machines; mount one with config.mounts).")
    static final class Volumes implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Parameters(index = "0", paramLabel = "ACTION", description = "create, ls, extend, rm, snapshot (take one), "
                + "snapshots (list them, with the nodes holding copies), snapshot-rm (NAME SNAPSHOT: delete one and "
                + "every copy), move (to another node, with its machine; waits for the end unless --detach) "
                + "or moves (list them with their steps)") String action;
        @Parameters(index = "1", arity = "0..1", paramLabel = "NAME") String name;
        @Parameters(index = "2", arity = "0..1", paramLabel = "SNAPSHOT") String snapshotId;
        @Option(names = "--size-gb", description = "the size in GiB (create, extend)") Integer sizeGb;
        @Option(names = "--region", description = "the region its node must be in (create)") String region;
        @Option(names = "--snapshot", description = "a snapshot's id to restore into the new volume (create)")
        String snapshot;
        @Option(names = "--node", description = "the node to move it to (move; default: a feasible one)") String node;
        @Option(names = "--detach", description = "return once the move began (move)") boolean detach;
        @Option(names = "--keep", description = "keep only the volume's newest N snapshots (snapshot)") Integer keep;

        @Override
        public Integer call() throws InterruptedException {
            var client = o.client();
            String ns = o.namespace();
            switch (action) {
                case "move" -> {
                    var m = client.moveVolume(ns, required(name, "NAME"), node);
                    while (!detach && !m.state().ended()) {
                        Thread.sleep(500);
                        String id = m.id();
                        m = client.volumeMoves(ns, name).stream().filter(x -> x.id().equals(id)).findFirst()
                                .orElseThrow();
                    }
                    o.print(m, m.steps(), MOVE_STEP_COLUMNS, s -> Arrays.asList(s.at(), s.message()));
                    if (m.state() == dev.bolero.api.wire.VolumeMove.State.FAILED) {
                        throw new IllegalStateException("move volume " + name + " failed: " + m.error());
                    }
                }
                case "moves" -> {
                    var list = client.volumeMoves(ns, required(name, "NAME"));
                    o.print(list, list, MOVE_COLUMNS, m -> Arrays.asList(m.id(), m.fromNode(), m.toNode(),
                            m.machineId(), m.state().wireName(), m.error(), m.createdAt()));
                }
                case "create" -> {
                    var v = client.createVolume(ns, required(name, "NAME"), required(sizeGb, "--size-gb"), region,
                            snapshot);
                    o.print(v, List.of(v), VOLUME_COLUMNS, ClusterCommands::volumeRow);
                }
                case "ls" -> {
                    var list = name == null ? client.volumes(ns) : List.of(client.volume(ns, name));
                    o.print(name == null ? list : list.getFirst(), list, VOLUME_COLUMNS, ClusterCommands::volumeRow);
                }
                case "extend" -> {
                    var v = client.extendVolume(ns, required(name, "NAME"), required(sizeGb, "--size-gb"));
                    o.print(v, List.of(v), VOLUME_COLUMNS, ClusterCommands::volumeRow);
                }
                case "rm" -> client.deleteVolume(ns, required(name, "NAME"));
                case "snapshot" -> {
                    var s = client.snapshotVolume(ns, required(name, "NAME"), keep);
                    o.print(s, List.of(s), SNAPSHOT_COLUMNS, ClusterCommands::snapshotRow);
                }
                case "snapshots" -> {
                    var list = client.volumeSnapshots(ns, required(name, "NAME"));
                    o.print(list, list, SNAPSHOT_COLUMNS, ClusterCommands::snapshotRow);
                }
                case "snapshot-rm" -> client.deleteVolumeSnapshot(ns, required(name, "NAME"),
                        required(snapshotId, "SNAPSHOT"));
                default -> throw new IllegalArgumentException("volumes: unknown action " + action
                        + " (create, ls, extend, rm, snapshot, snapshots, snapshot-rm, move, moves)");
            }
            return 0;
        }
    }

    private static final List<String> MOVE_COLUMNS = List.of("ID", "FROM", "TO", "MACHINE", "STATE", "ERROR",
            "CREATED");
    private static final List<String> MOVE_STEP_COLUMNS = List.of("AT", "STEP");

    private static final List<String> VOLUME_COLUMNS = List.of("NAME", "ID", "SIZE_GB", "REGION", "NODE", "MACHINE");

    private static List<Object> volumeRow(dev.bolero.api.wire.Volume v) {
        return Arrays.asList(v.name(), v.id(), v.sizeGb(), v.region(), v.nodeId(), v.machineId());
    }

    private static final List<String> SNAPSHOT_COLUMNS = List.of("ID", "VOLUME", "SIZE_GB", "NODE", "COPIES",
            "CREATED");

    /** A snapshot's row; COPIES: each copy as {@code node:state}, comma-separated. */
    private static List<Object> snapshotRow(dev.bolero.api.wire.VolumeSnapshot s) {
        String copies = s.copies().stream().map(c -> c.nodeId() + ":" + c.state().wireName())
                .collect(java.util.stream.Collectors.joining(","));
        return Arrays.asList(s.id(), s.volume(), s.sizeGb(), s.nodeId(), copies, s.createdAt());
    }


    @Command(name = "quota", mixinStandardHelpOptions = true, description = "Show a namespace's quota and what it "
            + "holds (any token of the namespace), or set it (the cluster's admin): set replaces every limit, and a "
            + "limit left out is unlimited.")
    static final class Quota implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Parameters(index = "0", paramLabel = "ACTION", description = "get or set") String action;
        @Parameters(index = "1", arity = "0..1", paramLabel = "NAMESPACE", description = "default -n's") String ns;
        @Option(names = "--machines", description = "set: the most live machines") Integer machines;
        @Option(names = "--vcpus", description = "set: the most vCPUs of its machines in all") Integer vcpus;
        @Option(names = "--memory-mib", description = "set: the most guest memory of its machines in all, in MiB")
        Integer memoryMib;
        @Option(names = "--volumes", description = "set: the most volumes") Integer volumes;
        @Option(names = "--volume-gib", description = "set: the most GiB of its volumes in all") Integer volumeGib;

        @Override
        public Integer call() {
            var client = o.client();
            String namespace = ns != null ? ns : o.namespace();
            var quota = switch (action) {
                case "get" -> client.quota(namespace);
                case "set" -> client.setQuota(namespace,
                        new dev.bolero.api.wire.Quota(machines, vcpus, memoryMib, volumes, volumeGib));
                default -> throw new IllegalArgumentException("quota: unknown action " + action + " (get, set)");
            };
            o.print(quota, List.of(dev.bolero.api.wire.QuotaResource.values()), List.of("RESOURCE", "USED", "LIMIT"),
                    r -> Arrays.asList(r.wireName(), r.of(quota.usage()), r.limit(quota.limits()).isPresent()
                            ? r.limit(quota.limits()).getAsLong() : "unlimited"));
            return 0;
        }
    }

    @Command(name = "tokens", mixinStandardHelpOptions = true, description = "Mint (shown once), list or revoke a "
            + "namespace's tokens (the cluster's admin, or the namespace's admin token).")
    static final class Tokens implements Callable<Integer> {
        @Mixin ClientOptions o;
        @Parameters(index = "0", paramLabel = "ACTION", description = "create, ls or rm") String action;
        @Parameters(index = "1", arity = "0..1", paramLabel = "NAMESPACE|ID",
                description = "create: the namespace (default -n's); rm: the token's id") String arg;
        @Option(names = "--role", description = "create: member (default) or admin (may manage tokens)")
        dev.bolero.api.wire.TokenRole role;
        @Option(names = "--expires", paramLabel = "DURATION", description = "create: lifetime, e.g. 90m, 12h, 30d "
                + "(default: never)") String expires;
        @Option(names = "--description", description = "create: what the token is for") String description;

        @Override
        public Integer call() {
            var client = o.client();
            switch (action) {
                case "create" -> {
                    var spec = new dev.bolero.api.wire.TokenSpec(role, expires == null ? null : seconds(expires),
                            description);
                    var token = client.createToken(arg != null ? arg : o.namespace(), spec);
                    o.print(token, List.of(token), List.of("TOKEN", "ID", "ROLE", "EXPIRES"),
                            t -> Arrays.asList(t.token(), t.id(), t.role().wireName(), t.expiresAt()));
                }
                case "ls" -> {
                    var list = client.tokens(o.namespace());
                    o.print(list, list, List.of("ID", "ROLE", "CREATED", "EXPIRES", "DESCRIPTION"),
                            t -> Arrays.asList(t.id(), t.role().wireName(), t.createdAt(), t.expiresAt(),
                                    t.description()));
                }
                case "rm" -> client.revokeToken(o.namespace(), required(arg, "ID"));
                default -> throw new IllegalArgumentException("tokens: unknown action " + action + " (create, ls, rm)");
            }
            return 0;
        }

        /** {@code 90m}, {@code 12h}, {@code 30d} or plain seconds, in seconds. */
        static long seconds(String duration) {
            var m = Pattern.compile("([0-9]{1,9})([smhd]?)").matcher(duration);
            if (!m.matches()) throw new IllegalArgumentException("--expires must be like 90m, 12h or 30d, got "
                    + duration);
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "m" -> n * 60;
                case "h" -> n * 3600;
                case "d" -> n * 86400;
                default -> n;
            };
        }
    }

    private static <T> T required(T value, String what) {
        if (value == null) throw new IllegalArgumentException(what + " is required");
        return value;
    }
}
