package dev.bolero.network.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The commands network tests run on the host ({@code ip}, {@code nft}, {@code curl}, …), either in the host's own
 * network namespace or, through a {@code where} prefix from {@link #inNetns}, inside another. Every call waits at most
 * 60 seconds; {@link #sh} throws {@link IllegalStateException} naming the command when it fails.
 */
public final class HostCommands {
    /** The host's own network namespace: no prefix. */
    public static final List<String> HOST = List.of();

    private HostCommands() {}

    /** A command's exit status and its output (stdout and stderr together). */
    public record Result(int exit, String out) {}

    /** Runs {@code argv}; throws {@link IllegalStateException} if it does not end within 60 seconds. */
    public static Result run(String... argv) throws Exception {
        var p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", argv) + ": timed out");
        }
        return new Result(p.exitValue(), out);
    }

    /** Runs {@code argv} and returns its output; throws {@link IllegalStateException} if it exits non-zero. */
    public static String sh(String... argv) throws Exception {
        var r = run(argv);
        if (r.exit() != 0) throw new IllegalStateException(String.join(" ", argv) + " exited with " + r.exit() + ": " + r.out());
        return r.out();
    }

    /** The prefix that runs a command inside network namespace {@code netns}. */
    public static List<String> inNetns(String netns) {
        return List.of("ip", "netns", "exec", netns);
    }

    /** {@code argv} after the {@code where} prefix. */
    public static String[] at(List<String> where, String... argv) {
        var all = new ArrayList<>(where);
        all.addAll(List.of(argv));
        return all.toArray(String[]::new);
    }

    /** Skips the test unless it runs as root with every one of {@code tools} on the PATH. */
    public static void assumeRootWith(String why, String... tools) throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root " + why);
        for (String tool : tools) {
            assumeTrue(run("sh", "-c", "command -v " + tool).exit() == 0, tool + " is not installed");
        }
    }

    /** Four random lower-case letters, to name what a test makes on a host that several suites share. */
    public static String randomId() {
        var r = ThreadLocalRandom.current();
        var sb = new StringBuilder();
        for (int i = 0; i < 4; i++) sb.append((char) ('a' + r.nextInt(26)));
        return sb.toString();
    }

    /** Adds network namespace {@code netns} with its loopback up. */
    public static void addNetns(String netns) throws Exception {
        sh("ip", "netns", "add", netns);
        sh("ip", "-n", netns, "link", "set", "lo", "up");
    }

    /**
     * Joins network namespace {@code netns} to {@code where} by a veth pair: {@code end} on this side (left down and
     * without an address), {@code eth0} with {@code peerCidr} and up in {@code netns}.
     */
    public static void veth(List<String> where, String end, String netns, String peerCidr) throws Exception {
        sh(at(where, "ip", "link", "add", end, "type", "veth", "peer", "name", "eth0", "netns", netns));
        sh("ip", "-n", netns, "addr", "add", peerCidr, "dev", "eth0");
        sh("ip", "-n", netns, "link", "set", "eth0", "up");
    }

    /** Names of the devices at {@code where} that start with {@code prefix}, sorted. */
    public static List<String> devices(List<String> where, String prefix) throws Exception {
        var names = new ArrayList<String>();
        for (var line : sh(at(where, "ip", "-o", "link", "show")).split("\n")) {
            var fields = line.split(": ", 3);
            if (fields.length < 2) continue;
            var name = fields[1].split("@")[0];
            if (name.startsWith(prefix)) names.add(name);
        }
        names.sort(null);
        return names;
    }

    /**
     * The inet and bridge nftables tables named {@code table} at {@code where}, as listed; empty for a missing one. The
     * elements of dynamic sets (the per-guest connection counts, which traffic fills) are left out: they are state,
     * not rules.
     */
    public static String nftTables(List<String> where, String table) throws Exception {
        var sb = new StringBuilder();
        for (var family : List.of("inet", "bridge")) {
            var r = run(at(where, "nft", "list", "table", family, table));
            sb.append(r.exit() == 0 ? DYNAMIC_ELEMENTS.matcher(r.out()).replaceAll("$1") : "").append("\n--\n");
        }
        return sb.toString();
    }

    private static final java.util.regex.Pattern DYNAMIC_ELEMENTS =
            java.util.regex.Pattern.compile("(flags dynamic)\\s*elements = \\{[^}]*\\}");
}
