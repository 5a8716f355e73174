package dev.bolero.network;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away network world for one test: a "node" network namespace where NodeNetwork does its work, an "uplink"
 * namespace standing for the outside (198.18.0.2, reached from the node's 198.18.0.1), and one namespace per guest
 * plugged into the node's bridges by a veth pair instead of a tap. Everything is named with a random id so suites can
 * share a host, and {@link #close()} removes it all, processes first.
 */
final class Netns implements AutoCloseable {
    static final String NODE_UPLINK_IP = "198.18.0.1";
    static final String UPLINK_IP = "198.18.0.2";

    final String id = randomId();
    final String node = "bn" + id + "n";
    final String uplink = "bn" + id + "u";
    final String devicePrefix = "z" + id;
    final String table = "bolero_t" + id;
    private final List<String> namespaces = new ArrayList<>();
    private final Map<String, String> guests = new HashMap<>();
    private final List<Process> processes = new ArrayList<>();
    private final Path dir;

    private Netns() throws IOException {
        dir = Files.createTempDirectory("bolero-net-" + id);
    }

    /** Creates the node and uplink namespaces, or skips the test (with the reason) where that is impossible. */
    static Netns create() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root to create network namespaces");
        assumeTrue(onPath("ip") && onPath("nft") && onPath("busybox") && onPath("curl"),
                "needs ip (iproute2), nft (nftables), busybox (busybox-static) and curl");
        var n = new Netns();
        try {
            n.addNamespace(n.node);
            n.addNamespace(n.uplink);
            sh("ip", "-n", n.node, "link", "add", "up0", "type", "veth", "peer", "name", "eth0", "netns", n.uplink);
            sh("ip", "-n", n.node, "addr", "add", NODE_UPLINK_IP + "/24", "dev", "up0");
            sh("ip", "-n", n.node, "link", "set", "up0", "up");
            sh("ip", "-n", n.uplink, "addr", "add", UPLINK_IP + "/24", "dev", "eth0");
            sh("ip", "-n", n.uplink, "link", "set", "eth0", "up");
            var cgi = Files.createDirectories(n.dir.resolve("www/cgi-bin"));
            var peer = cgi.resolve("peer");
            Files.writeString(peer, "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' \"$REMOTE_ADDR\"\n");
            Files.setPosixFilePermissions(peer, PosixFilePermissions.fromString("rwxr-xr-x"));
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
        var p = new ProcessBuilder("ip", "netns", "exec", ns, "busybox", "httpd", "-f", "-p", address + ":" + port,
                "-h", dir.resolve("www").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("httpd-" + ns + "-" + port + ".log").toFile()).start();
        processes.add(p);
        for (int i = 0; i < 100; i++) {
            if (run("ip", "netns", "exec", ns, "ss", "-Hltn", "sport", "=", ":" + port).out().contains(":" + port)) return;
            if (!p.isAlive()) throw new IllegalStateException("httpd in " + ns + " exited with " + p.exitValue());
            Thread.sleep(20);
        }
        throw new IllegalStateException("httpd in " + ns + " not listening on " + address + ":" + port);
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
        var all = new ArrayList<>(List.of("ip", "netns", "exec", node));
        all.addAll(List.of(argv));
        return sh(all.toArray(String[]::new));
    }

    /** {@code nft list table} of both Bolero tables in the node, or an empty string for each that does not exist. */
    String tables() throws Exception {
        var sb = new StringBuilder();
        for (var family : List.of("inet", "bridge")) {
            var r = run("ip", "netns", "exec", node, "nft", "list", "table", family, table);
            sb.append(r.exit() == 0 ? r.out() : "").append("\n--\n");
        }
        return sb.toString();
    }

    /** Names of the node's devices made by this test's NodeNetwork (bridges and ports). */
    List<String> ownDevices() throws Exception {
        var names = new ArrayList<String>();
        for (var line : inNode("ip", "-o", "link", "show").split("\n")) {
            var fields = line.split(": ", 3);
            if (fields.length < 2) continue;
            var name = fields[1].split("@")[0];
            if (name.startsWith(devicePrefix)) names.add(name);
        }
        names.sort(null);
        return names;
    }

    private void addNamespace(String name) throws Exception {
        sh("ip", "netns", "add", name);
        namespaces.add(name);
        sh("ip", "-n", name, "link", "set", "lo", "up");
    }

    @Override
    public void close() {
        for (var p : processes) {
            p.destroyForcibly();
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (var ns : namespaces.reversed()) {
            try {
                run("ip", "netns", "del", ns);
            } catch (Exception e) {
                System.err.println("cleanup: ip netns del " + ns + ": " + e);
            }
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("cleanup: " + dir + ": " + e);
        }
    }

    record Result(int exit, String out) {}

    static Result run(String... argv) throws Exception {
        var p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", argv) + ": timed out");
        }
        return new Result(p.exitValue(), out);
    }

    static String sh(String... argv) throws Exception {
        var r = run(argv);
        if (r.exit() != 0) throw new IllegalStateException(String.join(" ", argv) + " exited with " + r.exit() + ": " + r.out());
        return r.out();
    }

    private static boolean onPath(String tool) {
        for (var d : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) return true;
        }
        return false;
    }

    private static String randomId() {
        var r = ThreadLocalRandom.current();
        var sb = new StringBuilder();
        for (int i = 0; i < 4; i++) sb.append((char) ('a' + r.nextInt(26)));
        return sb.toString();
    }
}
