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
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What a node's network needs around it in a test, on the host itself (QEMU opens its taps in the host's network
 * namespace): an "uplink" network namespace joined to the host by a veth pair, standing for the internet (a web server
 * at {@link #uplinkIp} answering {@code /cgi-bin/peer} with the client's address), a web server on the host standing
 * for the host's own services, and a device prefix, nftables table and address pool unique to this fixture so that
 * suites can share the host. {@link #close()} removes all of it, and any device or table a failed test left.
 *
 * <p>A test class registers one on a static field, after its {@link AgentFixture}:
 * {@code @RegisterExtension static final HostNetworkFixture net = HostNetworkFixture.perClass();}
 */
final class HostNetworkFixture implements AutoCloseable, BeforeAllCallback, AfterAllCallback {
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

    /** A fixture for one test class, made before its tests and removed after them (see the class's Javadoc). */
    static HostNetworkFixture perClass() {
        try {
            return new HostNetworkFixture();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("network fixture: " + e.getMessage(), e);
        }
    }

    /** Makes the uplink and the servers, or skips the class saying what is missing. */
    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        HostCommands.assumeRootWith("for taps, bridges and nftables", "ip", "nft", "busybox", "curl", "ss");
        assumeTrue(!sh("ip", "-4", "route").contains(pool.substring(0, pool.indexOf(".0.0/"))),
                "the host already routes " + pool);
        namespaceMade = true;
        HostCommands.addNetns(uplinkNetns);
        HostCommands.veth(HOST, hostVeth, uplinkNetns, uplinkIp + "/24");
        sh("ip", "addr", "add", publishAddress + "/24", "dev", hostVeth);
        sh("ip", "link", "set", hostVeth, "up");
        web.serve(inNetns(uplinkNetns), uplinkIp, 80);
        web.serve(HOST, "0.0.0.0", hostServicePort);
    }

    /** Removes all of it, also after a failed or skipped {@link #beforeAll}. */
    @Override
    public void afterAll(ExtensionContext context) {
        close();
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
