package dev.bolero.agent;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.network.NetworkConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * What a node's network needs around it in a test, on the host itself (QEMU opens its taps in the host's network
 * namespace): an "uplink" network namespace joined to the host by a veth pair, standing for the internet (a web server
 * at {@link #uplinkIp} answering {@code /cgi-bin/peer} with the client's address), a web server on the host standing
 * for the host's own services, and a device prefix, nftables table and address pool unique to this fixture so that
 * suites can share the host. {@link #close()} removes all of it, and any device or table a failed test left.
 */
final class HostNetworkFixture implements AutoCloseable {
    final String id = randomId();
    final String devicePrefix = "t" + id;
    final String table = "bolero_t" + id;
    final String pool;
    final String uplinkNetns = "bu" + id;
    final String hostVeth = "bv" + id;
    final String publishAddress;
    final String uplinkIp;
    final int hostServicePort;
    private final Path dir;
    private final List<Process> processes = new ArrayList<>();
    private boolean namespaceMade;

    private HostNetworkFixture() throws IOException {
        var r = ThreadLocalRandom.current();
        pool = "10." + (200 + r.nextInt(50)) + ".0.0/16";
        int subnet = 1 + r.nextInt(250);
        publishAddress = "198.18." + subnet + ".1";
        uplinkIp = "198.18." + subnet + ".2";
        hostServicePort = freePort();
        dir = Files.createTempDirectory("bolero-netfix-" + id);
    }

    /** Makes the uplink and the servers, or skips the test saying what is missing. */
    static HostNetworkFixture create() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root for taps, bridges and nftables");
        for (String tool : List.of("ip", "nft", "busybox", "curl")) {
            assumeTrue(run("sh", "-c", "command -v " + tool).exit() == 0, tool + " is not installed");
        }
        var f = new HostNetworkFixture();
        try {
            assumeTrue(!sh("ip", "-4", "route").contains(f.pool.substring(0, f.pool.indexOf(".0.0/"))),
                    "the host already routes " + f.pool);
            sh("ip", "netns", "add", f.uplinkNetns);
            f.namespaceMade = true;
            sh("ip", "link", "add", f.hostVeth, "type", "veth", "peer", "name", "eth0", "netns", f.uplinkNetns);
            sh("ip", "addr", "add", f.publishAddress + "/24", "dev", f.hostVeth);
            sh("ip", "link", "set", f.hostVeth, "up");
            sh("ip", "-n", f.uplinkNetns, "addr", "add", f.uplinkIp + "/24", "dev", "eth0");
            sh("ip", "-n", f.uplinkNetns, "link", "set", "eth0", "up");
            sh("ip", "-n", f.uplinkNetns, "link", "set", "lo", "up");
            var www = Files.createDirectories(f.dir.resolve("www/cgi-bin"));
            Files.writeString(www.getParent().resolve("index.html"), "uplink here\n");
            var peer = www.resolve("peer");
            Files.writeString(peer, "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' \"$REMOTE_ADDR\"\n");
            Files.setPosixFilePermissions(peer, PosixFilePermissions.fromString("rwxr-xr-x"));
            f.serve(List.of("ip", "netns", "exec", f.uplinkNetns), f.uplinkIp + ":80");
            f.serve(List.of(), "0.0.0.0:" + f.hostServicePort);
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
        var sb = new StringBuilder();
        for (var family : List.of("inet", "bridge")) {
            var r = run("nft", "list", "table", family, table);
            sb.append(r.exit() == 0 ? r.out() : "").append("--\n");
        }
        return sb.toString();
    }

    /** The names in {@code nft list tables} that are this fixture's. */
    List<String> tableNames() throws Exception {
        return sh("nft", "list", "tables").lines().filter(l -> l.endsWith(" " + table)).toList();
    }

    /** Host devices named with this fixture's prefix, sorted. */
    List<String> devices() throws Exception {
        var names = new ArrayList<String>();
        for (var line : sh("ip", "-o", "link", "show").split("\n")) {
            var fields = line.split(": ", 3);
            if (fields.length < 2) continue;
            var name = fields[1].split("@")[0];
            if (name.startsWith(devicePrefix)) names.add(name);
        }
        names.sort(null);
        return names;
    }

    /** HTTP GET with curl from the host; the body, or empty when it fails. */
    static String fetch(String url) throws Exception {
        var r = run("curl", "-sS", "--max-time", "10", url);
        return r.exit() == 0 ? r.out() : "";
    }

    private void serve(List<String> prefix, String address) throws Exception {
        var argv = new ArrayList<>(prefix);
        argv.addAll(List.of("busybox", "httpd", "-f", "-p", address, "-h", dir.resolve("www").toString()));
        var p = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectOutput(dir.resolve("httpd-" + processes.size() + ".log").toFile()).start();
        processes.add(p);
        var url = "http://" + address.replace("0.0.0.0", "127.0.0.1") + "/";
        var check = new ArrayList<>(prefix);
        check.addAll(List.of("curl", "-s", "--max-time", "1", url));
        for (int i = 0; i < 100; i++) {
            if (run(check.toArray(String[]::new)).out().contains("uplink here")) return;
            if (!p.isAlive()) throw new IllegalStateException("httpd on " + address + " exited with " + p.exitValue());
            Thread.sleep(50);
        }
        throw new IllegalStateException("httpd on " + address + " does not answer");
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
        try {
            for (var device : devices()) run("ip", "link", "del", device);
            for (var family : List.of("inet", "bridge")) run("nft", "delete", "table", family, table);
            if (namespaceMade) run("ip", "netns", "del", uplinkNetns);
            run("ip", "link", "del", hostVeth);
        } catch (Exception e) {
            System.err.println("cleanup of network fixture " + id + ": " + e);
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
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
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

    static int freePort() throws IOException {
        try (var s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static String randomId() {
        var r = ThreadLocalRandom.current();
        var sb = new StringBuilder();
        for (int i = 0; i < 4; i++) sb.append((char) ('a' + r.nextInt(26)));
        return sb.toString();
    }
}
