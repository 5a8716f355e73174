package dev.bolero.server;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL 15 cluster for tests: initdb into a temporary directory as the {@code postgres} OS user,
 * started on a free loopback port with its socket in that directory, stopped and deleted by {@link #close()}. Never
 * the system's cluster. Public for {@code bench/cluster.sh}.
 */
public final class PostgresCluster implements AutoCloseable {
    static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");

    final Path dir;
    final int port;

    /** Why PostgreSQL tests cannot run here, or null when they can. */
    public static String unavailable() {
        if (!Files.isExecutable(BIN.resolve("initdb")) || !Files.isExecutable(BIN.resolve("pg_ctl"))) {
            return "PostgreSQL 15 binaries are not in " + BIN + " (apt-get install -y postgresql)";
        }
        if (!Files.isExecutable(Path.of("/usr/sbin/runuser"))) return "runuser is missing";
        if (!"root".equals(System.getProperty("user.name"))) return "needs root to run initdb as the postgres user";
        return null;
    }

    public PostgresCluster() throws IOException, InterruptedException {
        dir = Files.createTempDirectory("bolero-pg-");
        try {
            run(List.of("chown", "postgres:postgres", dir.toString()));
            port = freePort();
            asPostgres(BIN.resolve("initdb") + " -D " + dir.resolve("data") + " -A trust -U bolero -E UTF8");
            asPostgres(BIN.resolve("pg_ctl") + " -D " + dir.resolve("data") + " -l " + dir.resolve("log") + " -w -t 60"
                    + " -o '-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1' start");
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** A new empty database, as a {@code postgresql://} URL. */
    public String newDatabase() throws IOException, InterruptedException {
        String name = "t" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        asPostgres(BIN.resolve("createdb") + " -h 127.0.0.1 -p " + port + " -U bolero " + name);
        return "postgresql://bolero@127.0.0.1:" + port + "/" + name;
    }

    /** The process id of the cluster's postmaster (the parent of its backends), from its pid file. */
    public long postmasterPid() throws IOException {
        return Long.parseLong(Files.readAllLines(dir.resolve("data/postmaster.pid")).getFirst().strip());
    }

    private void asPostgres(String command) throws IOException, InterruptedException {
        run(List.of("/usr/sbin/runuser", "-u", "postgres", "--", "sh", "-c", command));
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
    }

    /** A loopback port free when asked. */
    static int freePort() throws IOException {
        try (var socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            if (Files.exists(dir.resolve("data/postmaster.pid"))) {
                asPostgres(BIN.resolve("pg_ctl") + " -D " + dir.resolve("data") + " -m immediate -w stop");
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
