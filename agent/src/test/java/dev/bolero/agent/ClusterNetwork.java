package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.network.NetworkConfig;
import dev.bolero.network.testing.HostCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The network of a cluster test: a bridge on the host carrying {@link #hostIp()} (where servers and the registry
 * listen) and, per node, a network namespace joined to that bridge by a veth pair, with its own address, a default
 * route through the host, and a node network config (pool, device prefix, nftables table, publish address) for an
 * agent running inside it. Every name carries a random id so suites can share a host. {@link #close()} kills every
 * process still inside the namespaces (agents, VMMs), then deletes the namespaces — which takes their veth pairs,
 * bridges, taps and nftables tables with them — and the host bridge, even after a failed test.
 */
public final class ClusterNetwork implements AutoCloseable {
    private final String id = HostCommands.randomId();
    private final String bridge = "bc" + id;
    private final String subnet;
    private final List<Node> nodes = new ArrayList<>();
    private boolean bridgeMade;

    /**
     * One node's namespace.
     *
     * @param netns the network namespace's name
     * @param hostEnd the host's end of the veth pair, a port of the host bridge
     * @param ip the node's address on the cluster network (reachable from the host)
     * @param network the node network an agent inside the namespace should use
     */
    public record Node(String netns, String hostEnd, String ip, NetworkConfig network) {
        /**
         * {@code argv} prefixed to run inside this node's network namespace. Through {@code nsenter --net}, not
         * {@code ip netns exec}: the latter also remounts {@code /sys} for the namespace in a private mount namespace,
         * which hides the cgroup hierarchies under {@code /sys/fs/cgroup} that the jailer puts each VMM in.
         */
        public List<String> command(List<String> argv) {
            var all = new ArrayList<>(List.of("nsenter", "--net=/run/netns/" + netns, "--"));
            all.addAll(argv);
            return List.copyOf(all);
        }
    }

    private ClusterNetwork() {
        subnet = "198.19." + (1 + ThreadLocalRandom.current().nextInt(250));
    }

    /** Makes the host bridge, or skips the test saying what is missing. */
    public static ClusterNetwork create() throws Exception {
        HostCommands.assumeRootWith("for network namespaces", "ip", "nft", "nsenter");
        var n = new ClusterNetwork();
        try {
            assumeTrue(!HostCommands.sh("ip", "-4", "route").contains(n.subnet + "."),
                    "the host already routes " + n.subnet + ".0/24");
            HostCommands.sh("ip", "link", "add", n.bridge, "type", "bridge");
            n.bridgeMade = true;
            HostCommands.sh("ip", "addr", "add", n.hostIp() + "/24", "dev", n.bridge);
            HostCommands.sh("ip", "link", "set", n.bridge, "up");
        } catch (Exception | AssertionError e) {
            n.close();
            throw e;
        }
        return n;
    }

    /** The host's address on the cluster network. */
    public String hostIp() {
        return subnet + ".1";
    }

    /** A new node namespace plugged into the host bridge. */
    public Node addNode() throws Exception {
        int i = nodes.size();
        String ns = "bc" + id + "n" + i;
        String hostEnd = "bc" + id + "v" + i;
        String ip = subnet + "." + (10 + i);
        var network = new NetworkConfig("10." + (200 + i) + ".0.0/16", 24, "t" + id + i, "bolero_c" + id + i, ip,
                List.of(), Optional.empty());
        var node = new Node(ns, hostEnd, ip, network);
        nodes.add(node);
        HostCommands.addNetns(ns);
        HostCommands.veth(HostCommands.HOST, hostEnd, ns, ip + "/24");
        HostCommands.sh("ip", "link", "set", hostEnd, "master", bridge, "up");
        HostCommands.sh("ip", "-n", ns, "route", "add", "default", "via", hostIp());
        return node;
    }

    /** What of this network still exists on the host: namespaces and devices named with its id (empty once closed). */
    public List<String> leftovers() throws Exception {
        var left = new ArrayList<String>();
        for (String line : HostCommands.sh("ip", "netns", "list").split("\n")) {
            if (line.startsWith("bc" + id)) left.add("netns " + line.split(" ")[0]);
        }
        for (String line : HostCommands.sh("ip", "-o", "link", "show").split("\n")) {
            var fields = line.split(": ", 3);
            if (fields.length >= 2 && fields[1].startsWith("bc" + id)) left.add("link " + fields[1].split("@")[0]);
        }
        return left;
    }

    /** {@link #close()}, then fails the test if anything of this network is still on the host. */
    public void closeLeavingNothing() throws Exception {
        close();
        assertThat(leftovers()).as("namespaces and devices left").isEmpty();
    }

    /** Pids of the processes running inside a node's namespace. */
    public static List<Long> pids(Node node) throws Exception {
        var r = HostCommands.run("ip", "netns", "pids", node.netns());
        if (r.exit() != 0) return List.of();
        return r.out().lines().filter(l -> !l.isBlank()).map(l -> Long.parseLong(l.strip())).toList();
    }

    @Override
    public void close() {
        for (Node node : nodes.reversed()) {
            try {
                for (long pid : pids(node)) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                for (int i = 0; i < 100 && !pids(node).isEmpty(); i++) Thread.sleep(50);
                // the pair goes with its host end at once; with the namespace only once the kernel has freed it
                HostCommands.run("ip", "link", "del", node.hostEnd());
                HostCommands.run("ip", "netns", "del", node.netns());
            } catch (Exception e) {
                System.err.println("cleanup: netns " + node.netns() + ": " + e);
            }
        }
        try {
            if (bridgeMade) HostCommands.run("ip", "link", "del", bridge);
        } catch (Exception e) {
            System.err.println("cleanup: bridge " + bridge + ": " + e);
        }
    }
}
