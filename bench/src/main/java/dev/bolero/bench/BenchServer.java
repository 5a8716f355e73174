package dev.bolero.bench;

import dev.bolero.api.http.ClientLimits;
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
import java.util.concurrent.TimeUnit;

/**
 * A Bolero server in a JVM of its own, for {@link ClusterBench}: the harness's clients and simulated agents then do not
 * share the server's CPU, and the server's CPU is read from {@code /proc} apart from theirs.
 *
 * <p>{@link #start} launches it; the child prints {@code port=N} once it listens and stops when its standard input
 * ends, so it also stops if the harness dies.
 */
final class BenchServer implements AutoCloseable {
    /**
     * Extra JVM options for the server process, split at spaces: environment {@code BOLERO_BENCH_SERVER_OPTS} (for
     * example {@code -XX:StartFlightRecording=filename=/tmp/server.jfr}).
     */
    private static final String OPTS = "BOLERO_BENCH_SERVER_OPTS";
    /**
     * The JVM options {@code bin/bolero} gives {@code bolero server} (its serial collector and compact object headers),
     * so the server is measured as it runs; the bench's own JVM took the default (G1) before.
     */
    private static final List<String> SERVER_JVM = List.of("--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
            "-XX:+UseCompactObjectHeaders");
    private static final long CLOCK_TICKS = 100; // USER_HZ: the unit of utime and stime in /proc/PID/stat on Linux

    private final Process process;
    private final int port;

    private BenchServer(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /**
     * Starts a server on a free loopback port with these tokens, storing into {@code dataDir} or, when given, into the
     * PostgreSQL database {@code database}; returns once it listens.
     *
     * @throws IOException if the process cannot be started or exits before it listens
     */
    static BenchServer start(Path dataDir, Optional<String> database, String admin, String join) throws IOException {
        var command = new ArrayList<String>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Xmx1g", "-Dlogback.configurationFile=bench-logback.xml"));
        command.addAll(SERVER_JVM);
        String opts = System.getenv().getOrDefault(OPTS, "").strip();
        if (!opts.isEmpty()) command.addAll(List.of(opts.split(" +")));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), BenchServer.class.getName(),
                dataDir.toString(), admin, join));
        database.ifPresent(command::add);
        var process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        var out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        for (String line; (line = out.readLine()) != null; ) {
            if (line.startsWith("port=")) {
                Thread.ofVirtual().start(() -> out.lines().forEach(System.out::println));
                return new BenchServer(process, Integer.parseInt(line.substring(5)));
            }
            System.out.println(line);
        }
        process.destroyForcibly();
        throw new IOException("start the bench server: it exited with " + waitFor(process) + " before listening");
    }

    int port() {
        return port;
    }

    /** The CPU time (user and system) the server process has used, from {@code /proc/PID/stat}. */
    long cpuNanos() {
        return cpuNanos(process.pid(), false);
    }

    /** The CPU time the server's JIT compiler threads have used: see {@link #compilerCpuNanos(long)}. */
    long compilerCpuNanos() {
        return compilerCpuNanos(process.pid());
    }

    /**
     * The CPU time (user and system) process {@code pid} has used, from {@code /proc/PID/stat}; with {@code
     * reapedChildren}, also that of its children it has waited for.
     */
    static long cpuNanos(long pid, boolean reapedChildren) {
        try {
            return ticks(Files.readString(Path.of("/proc", Long.toString(pid), "stat")), reapedChildren);
        } catch (IOException e) {
            throw new UncheckedIOException("read the CPU time of process " + pid, e);
        }
    }

    /**
     * The CPU time (user and system) the HotSpot JIT compiler threads of JVM {@code pid} ({@code C1 CompilerThre…},
     * {@code C2 CompilerThre…}) have used, from {@code /proc/PID/task}: a JVM still compiling spends part of what it is
     * measured on code it will not compile again. A thread that ends between the listing and its read is left out.
     */
    static long compilerCpuNanos(long pid) {
        long total = 0;
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    if (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")) {
                        total += ticks(stat, false);
                    }
                } catch (IOException e) {
                    // The thread ended since the listing.
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("list the threads of process " + pid, e);
        }
        return total;
    }

    /** utime and stime (and with {@code reapedChildren} cutime and cstime) of a {@code stat} line, in nanoseconds. */
    private static long ticks(String stat, boolean reapedChildren) {
        // Fields after the command name, which is in parentheses and may hold spaces: utime, stime, cutime and cstime
        // are the 14th to 17th fields of the line, the 12th to 15th after the name.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        if (reapedChildren) ticks += Long.parseLong(fields[13]) + Long.parseLong(fields[14]);
        return ticks * (1_000_000_000L / CLOCK_TICKS);
    }

    /** Ends the server's input, which stops it, and waits up to 60 s before killing it. */
    @Override
    public void close() throws IOException {
        process.getOutputStream().close();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static String waitFor(Process process) {
        try {
            return process.waitFor(Duration.ofSeconds(10)) ? "status " + process.exitValue() : "no status yet";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "no status (interrupted)";
        }
    }

    /** The child: {@code dataDir adminToken joinToken [database]}. */
    public static void main(String[] args) throws Exception {
        // The simulated nodes all connect from one address: no limit per client address (the rest stay the defaults).
        var limits = ClientLimits.DEFAULT;
        var config = ServerConfig.of("127.0.0.1", 0, Path.of(args[0]))
                .withTokens(Optional.of(args[1]), Optional.of(args[2]))
                .withClientLimits(new ClientLimits(limits.headerTimeout(), limits.minBodyRate(), 0,
                        limits.maxConnections()));
        try (var server = Server.start(args.length > 3 ? config.withDatabase(args[3]) : config)) {
            System.out.println("port=" + server.port());
            System.out.flush();
            while (System.in.read() >= 0) {
                // Runs until the harness closes this process's input.
            }
        }
        System.exit(0);
    }
}
