package dev.bolero.agent;

import static dev.bolero.network.testing.HostCommands.HOST;
import static dev.bolero.network.testing.HostCommands.inNetns;
import static dev.bolero.network.testing.HostCommands.run;
import static dev.bolero.network.testing.HostCommands.sh;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.network.NetworkConfig;
import dev.bolero.network.testing.HostCommands;
import dev.bolero.network.testing.PeerWeb;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What a node's network needs around it in a test, on the host itself (QEMU opens its taps in the host's network
 * namespace): an "uplink" network namespace joined to the host by a veth pair, standing for the internet (a web server
 * at {@link #uplinkIp} answering {@code /cgi-bin/peer} with the client's address), a web server on the host standing
 * for the host's own services, and a device prefix, nftables table and address pool unique to this fixture so that
 * suites can share the host. {@link #close()} removes all of it, and any device or table a failed test left.
 */
final class HostNetworkFixture implements AutoCloseable {
    final String id = HostCommands.randomId();
    final String devicePrefix = "t" + id;
    final String table = "bolero_t" + id;
    final String pool;
    final String uplinkNetns = "bu" + id;
    final String hostVeth = "bv" + id;
    final String publishAddress;
    final String uplinkIp;
    final int hostServicePort;
    private final PeerWeb web;
    private boolean namespaceMade;

    private HostNetworkFixture() throws IOException {
        var r = ThreadLocalRandom.current();
        pool = "10." + (200 + r.nextInt(50)) + ".0.0/16";
        int subnet = 1 + r.nextInt(250);
        publishAddress = "198.18." + subnet + ".1";
        uplinkIp = "198.18." + subnet + ".2";
        hostServicePort = freePort();
        web = PeerWeb.create(id);
    }

    /** Makes the uplink and the servers, or skips the test saying what is missing. */
    static HostNetworkFixture create() throws Exception {
        HostCommands.assumeRootWith("for taps, bridges and nftables", "ip", "nft", "busybox", "curl", "ss");
        var f = new HostNetworkFixture();
        try {
            assumeTrue(!sh("ip", "-4", "route").contains(f.pool.substring(0, f.pool.indexOf(".0.0/"))),
                    "the host already routes " + f.pool);
            f.namespaceMade = true;
            HostCommands.addNetns(f.uplinkNetns);
            HostCommands.veth(HOST, f.hostVeth, f.uplinkNetns, f.uplinkIp + "/24");
            sh("ip", "addr", "add", f.publishAddress + "/24", "dev", f.hostVeth);
            sh("ip", "link", "set", f.hostVeth, "up");
            f.web.serve(inNetns(f.uplinkNetns), f.uplinkIp, 80);
            f.web.serve(HOST, "0.0.0.0", f.hostServicePort);
        } catch (Exception | AssertionError e) {
            f.close();
            throw e;
        }
        return f;
    }

    /** The node network config of an agent under test: this fixture's pool, prefix, table and publish address. */
    NetworkConfig config() {
        return new NetworkConfig(pool, 24, devicePrefix, table, publishAddress, List.of(uplinkIp), Optional.empty());
    }

    /** Both Bolero tables as {@code nft list table} prints them; empty strings for missing ones. */
    String tables() throws Exception {
        return HostCommands.nftTables(HOST, table);
    }

    /** The names in {@code nft list tables} that are this fixture's. */
    List<String> tableNames() throws Exception {
        return sh("nft", "list", "tables").lines().filter(l -> l.endsWith(" " + table)).toList();
    }

    /** Host devices named with this fixture's prefix, sorted. */
    List<String> devices() throws Exception {
        return HostCommands.devices(HOST, devicePrefix);
    }

    /** HTTP GET with curl from the host; the body, or empty when it fails. */
    static String fetch(String url) throws Exception {
        var r = run("curl", "-sS", "--max-time", "10", url);
        return r.exit() == 0 ? r.out() : "";
    }

    @Override
    public void close() {
        web.close();
        try {
            for (var device : devices()) run("ip", "link", "del", device);
            for (var family : List.of("inet", "bridge")) run("nft", "delete", "table", family, table);
            if (namespaceMade) run("ip", "netns", "del", uplinkNetns);
            run("ip", "link", "del", hostVeth);
        } catch (Exception e) {
            System.err.println("cleanup of network fixture " + id + ": " + e);
        }
    }

    static int freePort() throws IOException {
        try (var s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
