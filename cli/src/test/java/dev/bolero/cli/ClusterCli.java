package dev.bolero.cli;

import dev.bolero.cli.CliProcess.Run;
import dev.bolero.server.OneNodeCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The set-up of a CLI test against a real control plane, as a JUnit extension on an instance field:
 *
 * <pre>{@code
 * @RegisterExtension
 * final ClusterCli cli = ClusterCli.asAdminOf("alpha");
 * }</pre>
 *
 * <p>Before each test it starts a {@link OneNodeCluster} (SQLite, one fake node) in a fresh temporary directory; after
 * it, it closes the cluster and deletes the directory, even when the test failed. {@link #bolero} runs the CLI as a
 * separate process with the connection flags of the cluster's admin in the namespace.
 */
final class ClusterCli implements BeforeEachCallback, AfterEachCallback {
    private final String namespace;
    private Path dir;
    private OneNodeCluster cluster;

    private ClusterCli(String namespace) {
        this.namespace = namespace;
    }

    /** Runs the CLI as the cluster's admin, in {@code namespace}. */
    static ClusterCli asAdminOf(String namespace) {
        return new ClusterCli(namespace);
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        dir = Files.createTempDirectory("bolero-cli-");
        cluster = OneNodeCluster.start(dir.resolve("server"));
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        try {
            if (cluster != null) cluster.close();
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    /** The test's directory: the CLI's working directory and home, and the server's data under {@code server/}. */
    Path dir() {
        return dir;
    }

    OneNodeCluster cluster() {
        return cluster;
    }

    /** The control plane's URL. */
    String url() {
        return "http://127.0.0.1:" + cluster.port();
    }

    /**
     * Runs {@code bolero BEFORE… --server URL --token ADMIN -n NAMESPACE AFTER…} with {@code stdin}, as a separate
     * process, and waits for it.
     */
    Run bolero(String stdin, List<String> before, String... after) throws IOException, InterruptedException {
        var argv = new ArrayList<>(before);
        argv.addAll(List.of("--server", url(), "--token", OneNodeCluster.ADMIN, "-n", namespace));
        argv.addAll(List.of(after));
        return CliProcess.bolero(dir, stdin, argv.toArray(String[]::new));
    }
}
