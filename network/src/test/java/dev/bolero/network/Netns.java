package dev.bolero.network;

import static dev.bolero.network.testing.HostCommands.inNetns;
import static dev.bolero.network.testing.HostCommands.run;
import static dev.bolero.network.testing.HostCommands.sh;

import dev.bolero.network.testing.HostCommands;
import dev.bolero.network.testing.PeerWeb;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A throw-away network world for one test: a "node" network namespace where NodeNetwork does its work, an "uplink"
 * namespace standing for the outside (198.18.0.2, reached from the node's 198.18.0.1), and one namespace per guest
 * plugged into the node's bridges by a veth pair instead of a tap. Everything is named with a random id so suites can
 * share a host, and {@link #close()} removes it all, processes first.
 */
final class Netns implements AutoCloseable {
    static final String NODE_UPLINK_IP = "198.18.0.1";
    static final String UPLINK_IP = "198.18.0.2";

    final String id = HostCommands.randomId();
    final String node = "bn" + id + "n";
    final String uplink = "bn" + id + "u";
    final String devicePrefix = "z" + id;
    final String table = "bolero_t" + id;
    private final List<String> namespaces = new ArrayList<>();
    private final Map<String, String> guests = new HashMap<>();
    private final PeerWeb web;

    private Netns() throws Exception {
        web = PeerWeb.create(id);
    }

    /** Creates the node and uplink namespaces, or skips the test (with the reason) where that is impossible. */
    static Netns create() throws Exception {
        HostCommands.assumeRootWith("to create network namespaces", "ip", "nft", "busybox", "curl", "ss");
        var n = new Netns();
        try {
            n.addNamespace(n.node);
            n.addNamespace(n.uplink);
            HostCommands.veth(inNetns(n.node), "up0", n.uplink, UPLINK_IP + "/24");
            sh("ip", "-n", n.node, "addr", "add", NODE_UPLINK_IP + "/24", "dev", "up0");
            sh("ip", "-n", n.node, "link", "set", "up0", "up");
        } catch (Exception | AssertionError e) {
            n.close();
            throw e;
        }
        return n;
    }

    NetworkConfig config() {
        return new NetworkConfig("10.210.0.0/16", 24, devicePrefix, table, NODE_UPLINK_IP, List.of("198.18.0.53"),
                Optional.of(node));
    }

    /** Ports are veth pairs whose "eth0" end lives in the guest's namespace, with the machine's MAC. */
    PortFactory ports() {
        return (machineId, name, mac) -> List.of(
                "link add name " + name + " type veth peer name eth0 address " + mac + " netns " + guest(machineId));
    }

    /** The namespace standing for machine {@code machineId}'s guest, created on first use. */
    String guest(String machineId) {
        return guests.computeIfAbsent(machineId, m -> {
            var name = "bn" + id + "g" + guests.size();
            try {
                addNamespace(name);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return name;
        });
    }

    /** Configures the guest's eth0 the way bolero-init would from the attachment. */
    void configureGuest(String machineId, Attachment a) throws Exception {
        var g = guest(machineId);
        sh("ip", "-n", g, "addr", "add", a.ipCidr(), "dev", "eth0");
        sh("ip", "-n", g, "link", "set", "eth0", "up");
        sh("ip", "-n", g, "route", "add", "default", "via", a.gateway());
    }

    /** Starts an HTTP server in namespace {@code ns} on {@code address:port} answering /cgi-bin/peer with the client's address. */
    void serve(String ns, String address, int port) throws Exception {
        web.serve(inNetns(ns), address, port);
    }

    /** Fetches /cgi-bin/peer from {@code address:port} out of namespace {@code ns}: the address the server saw, or empty. */
    String fetchPeer(String ns, String address, int port) throws Exception {
        var r = run("ip", "netns", "exec", ns, "curl", "-sS", "--max-time", "2",
                "http://" + address + ":" + port + "/cgi-bin/peer");
        return r.exit() == 0 ? r.out().strip() : "";
    }

    boolean ping(String ns, String target) throws Exception {
        return run("ip", "netns", "exec", ns, "busybox", "ping", "-c", "1", "-W", "1", target).exit() == 0;
    }

    boolean ping(String ns, String source, String target) throws Exception {
        return run("ip", "netns", "exec", ns, "busybox", "ping", "-c", "1", "-W", "1", "-I", source, target).exit() == 0;
    }

    /** Runs a command inside the node namespace and returns its output; fails the test if it fails. */
    String inNode(String... argv) throws Exception {
        return sh(HostCommands.at(inNetns(node), argv));
    }

    /** {@code nft list table} of both Bolero tables in the node, or an empty string for each that does not exist. */
    String tables() throws Exception {
        return HostCommands.nftTables(inNetns(node), table);
    }

    /** Names of the node's devices made by this test's NodeNetwork (bridges and ports). */
    List<String> ownDevices() throws Exception {
        return HostCommands.devices(inNetns(node), devicePrefix);
    }

    private void addNamespace(String name) throws Exception {
        namespaces.add(name);
        HostCommands.addNetns(name);
    }

    @Override
    public void close() {
        web.close();
        for (var ns : namespaces.reversed()) {
            try {
                run("ip", "netns", "del", ns);
            } catch (Exception e) {
                System.err.println("cleanup: ip netns del " + ns + ": " + e);
            }
        }
    }
}
