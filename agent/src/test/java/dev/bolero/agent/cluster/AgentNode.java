package dev.bolero.agent.cluster;

import static dev.bolero.server.Http.call;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.agent.ClusterNetwork;
import dev.bolero.server.Server;
import dev.bolero.server.ServerConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * One cluster agent of a test: its own JVM ({@link ClusterAgentMain}) inside its own network namespace, with its own
 * data directory and node network (bridges, taps and nftables tables live in the namespace). {@link #start()} again
 * after {@link #kill()} restarts it on the same data directory, so it keeps its node id.
 */
class AgentNode {
    final String name;
    final Path dataDir;
    final ClusterNetwork.Node net;
    private final Supplier<List<String>> servers;
    private final String joinToken;
    private final String registry;
    /** Arguments appended to {@link ClusterAgentMain#arguments}: e.g. {@link ClusterAgentMain#privateNetwork}. */
    List<String> extraArguments = List.of();
    /** Every line the agent wrote (stdout and stderr) over all its starts. */
    final List<String> output = java.util.Collections.synchronizedList(new ArrayList<>());
    Process process;
    int port;
    String id;

    /**
     * @param servers the control plane's URLs at each start, reachable from the namespace
     * @param registry the registry (host:port) the agent reaches over plain HTTP
     */
    AgentNode(String name, Path dataDir, ClusterNetwork.Node net, Supplier<List<String>> servers, String joinToken,
              String registry) {
        this.name = name;
        this.dataDir = dataDir;
        this.net = net;
        this.servers = servers;
        this.joinToken = joinToken;
        this.registry = registry;
    }

    void start() throws Exception {
        Files.createDirectories(dataDir);
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        var argv = new ArrayList<>(List.of(javaBin, "--enable-native-access=ALL-UNNAMED",
                "-Dbolero.home=" + System.getProperty("bolero.home", ""),
                "-cp", System.getProperty("java.class.path"), ClusterAgentMain.class.getName()));
        argv.addAll(ClusterAgentMain.arguments(dataDir, servers.get(), joinToken, name, "node=" + name, 4, 4096,
                net.ip(), registry, net.network()));
        argv.addAll(extraArguments);
        process = new ProcessBuilder(net.command(argv)).redirectErrorStream(true).start();
        var reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String ready = CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                while ((line = reader.readLine()) != null) {
                    output.add(line);
                    System.out.println(name + "| " + line);
                    if (line.startsWith("AGENT-PORT ")) return line;
                }
                throw new IllegalStateException("agent " + name + " exited before joining (its output is above)");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).get(60, TimeUnit.SECONDS);
        String[] words = ready.split(" ");
        port = Integer.parseInt(words[1]);
        String joined = words[3];
        if (id != null) assertThat(joined).as("a restarted agent keeps its node id").isEqualTo(id);
        id = joined;
        Thread.ofVirtual().start(() -> {
            try {
                reader.lines().forEach(line -> {
                    output.add(line);
                    System.out.println(name + "| " + line);
                });
            } catch (UncheckedIOException e) {
                // the agent was killed
            }
        });
    }

    /**
     * A control plane on the cluster network's host address, its data in {@code dir/server}, with fast node timing
     * (heartbeats every second, a node down after 8 s of silence) and its loop every 200 ms.
     */
    static Server startServer(ClusterNetwork network, Path dir, String adminToken, String joinToken) {
        return Server.start(ServerConfig.of(network.hostIp(), 0, dir.resolve("server"))
                .withTokens(Optional.of(adminToken), Optional.of(joinToken))
                .withTiming(TestCluster.QUICK_LOSS, Duration.ofMillis(200)));
    }

    /** SIGKILL; its VMMs keep running, as they would on a real node whose agent crashed. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** The names of the files in the node's volumes directory, sorted (none when it has none). */
    List<String> volumeFiles() throws IOException {
        Path volumes = dataDir.resolve("volumes");
        if (!Files.isDirectory(volumes)) return List.of();
        try (Stream<Path> files = Files.list(volumes)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    /** The bytes a file occupies on disk ({@code du}): less than its size when it is sparse. */
    static long allocatedBytes(Path file) throws IOException, InterruptedException {
        var du = new ProcessBuilder("du", "-B1", file.toString()).redirectErrorStream(true).start();
        String out = new String(du.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(du.waitFor()).as(out).isZero();
        return Long.parseLong(Stream.of(out.split("\\s+")).findFirst().orElseThrow());
    }

    /** The node API's base URL, reached from the host through the cluster network. */
    String url() {
        return "http://" + net.ip() + ":" + port;
    }

    /** The node API's view of a machine: its state, or "absent". */
    String localState(String machineId) {
        var r = call("GET", url() + "/api/v1/machines/" + machineId, null, null);
        return r.status() == 404 ? "absent" : r.json().path("state").asString();
    }

    int localMachines() {
        return call("GET", url() + "/api/v1/machines", null, null).json().size();
    }

    /**
     * Kills every started agent of {@code nodes}, then the VMMs they left behind (they outlive their agents by design),
     * found by {@code dataRoot}, the directory holding the agents' data directories, in their command lines.
     */
    static void killAll(List<? extends AgentNode> nodes, Path dataRoot) throws InterruptedException {
        for (AgentNode n : nodes) if (n.process != null) n.kill();
        for (long pid : processesMentioning(dataRoot.toString())) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /**
     * Tears a test cluster down, each step even when an earlier one failed: {@link #killAll} the agents and their VMMs,
     * then the server, the registry and the network (failing the test if anything of the network is left).
     */
    static void tearDown(List<? extends AgentNode> nodes, Path dataRoot, AutoCloseable server, AutoCloseable registry,
                         ClusterNetwork network) throws Exception {
        try {
            killAll(nodes, dataRoot);
        } finally {
            try {
                if (server != null) server.close();
            } finally {
                try {
                    if (registry != null) registry.close();
                } finally {
                    if (network != null) network.closeLeavingNothing();
                }
            }
        }
    }

    /** Pids of live processes (other than JVMs) whose command line mentions {@code needle}. */
    static List<Long> processesMentioning(String needle) {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .filter(p -> {
                        try {
                            String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                            return cmd.contains(needle) && !cmd.contains("-cp\0");
                        } catch (IOException e) {
                            return false;
                        }
                    })
                    .map(p -> Long.parseLong(p.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
