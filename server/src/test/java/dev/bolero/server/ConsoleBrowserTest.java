package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.api.ApiJson;
import dev.bolero.api.MachineEvent;
import dev.bolero.core.MachineState;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The web console end to end in a real headless Chromium, driven by Playwright ({@code console/console-e2e.mjs}):
 * against a real control plane (SQLite) with one {@link FakeAgent} node whose machine runs, an admin signs in, sees the
 * machine running, follows its log until the node's line appears, sees its stats plotted, stops it and sees it
 * stopped, finds the stop in the audit log, cordons and uncordons the node, and signs out; the namespace's tenant then
 * signs in and sees only its namespace, without the admin pages. The test plays the node's
 * side of the relayed streams: a log that stays open, the machine's events.
 *
 * <p>Needs Debian's {@code chromium} and Node.js with npm; {@code playwright-core} {@value #PLAYWRIGHT_CORE} is
 * installed from the npm registry into {@code target/playwright} (once). The picture the script takes of the machine's
 * page is left in {@code target/console/console.png} ({@code docs/console.png} is a copy).
 */
class ConsoleBrowserTest {
    static final String PLAYWRIGHT_CORE = "1.65.1";
    private static final Path PLAYWRIGHT = Path.of("target", "playwright");
    private static final String LOG_LINE = "hello from the console test";

    @TempDir
    Path dir;

    @Test
    void anAdminSignsInSeesTheRunningMachineFollowsItsLogStopsItAndFindsTheStopInTheAuditLog() throws Exception {
        Optional<Path> chromium = onPath("chromium").or(() -> onPath("chromium-browser"));
        Optional<Path> node = onPath("node");
        String missing = chromium.isEmpty() ? "chromium is not installed (apt-get install -y chromium)"
                : node.isEmpty() || onPath("npm").isEmpty() ? "Node.js and npm are not installed" : null;
        if (missing != null) System.out.println("skipping ConsoleBrowserTest: " + missing);
        assumeTrue(missing == null, missing);
        Path playwright = installPlaywright();
        Path screenshots = Files.createDirectories(Path.of("target", "console"));
        Files.deleteIfExists(screenshots.resolve("failure.png"));

        try (var cluster = OneNodeCluster.start(dir.resolve("server"));
             var streams = new NodeStreams(cluster.node())) {
            var http = new Http(cluster.port());
            var tenant = http.post("/v1/namespaces/alpha/tokens", OneNodeCluster.ADMIN, null);
            assertThat(tenant.status()).as("%s", tenant).isEqualTo(201);
            Path script = Path.of(ConsoleBrowserTest.class.getResource("/console/console-e2e.mjs").toURI());
            Path output = dir.resolve("playwright.log");
            var process = new ProcessBuilder(node.get().toString(), script.toString())
                    .redirectErrorStream(true).redirectOutput(output.toFile());
            process.environment().putAll(Map.of(
                    "PLAYWRIGHT", playwright.toAbsolutePath().toString(),
                    "CHROMIUM", chromium.get().toString(),
                    "BOLERO_URL", "http://127.0.0.1:" + cluster.port(),
                    "BOLERO_TOKEN", OneNodeCluster.ADMIN,
                    "BOLERO_NAMESPACE", "alpha",
                    "BOLERO_MACHINE_NAME", "m1",
                    "BOLERO_TENANT_TOKEN", tenant.json().path("token").asString(),
                    "BOLERO_OTHER_NAMESPACE", "beta",
                    "LOG_LINE", LOG_LINE,
                    "SCREENSHOTS", screenshots.toAbsolutePath().toString()));
            Process p = process.start();
            try {
                p.getOutputStream().close();
                assertThat(p.waitFor(10, TimeUnit.MINUTES)).as("the Playwright script ended").isTrue();
                assertThat(p.exitValue()).as("the Playwright script's exit status; its output:%n%s",
                        Files.readString(output)).isZero();
            } finally {
                p.destroyForcibly();
            }

            var machine = http.get("/v1/namespaces/alpha/machines/" + cluster.machine(), OneNodeCluster.ADMIN);
            assertThat(machine.json().path("state").asString()).as("%s", machine).isEqualTo("stopped");
            var stops = http.get("/v1/namespaces/alpha/audit?action=stopMachine", OneNodeCluster.ADMIN);
            assertThat(stops.json()).as("%s", stops).hasSize(1);
            assertThat(streams.asked).as("the streams the console asked of the node")
                    .contains("logs {follow=true, tail=200}", "events {}");
        }
    }

    /** The node's side of the streams the console opens: a followed log that stays open, the machine's events. */
    private static final class NodeStreams implements AutoCloseable {
        private final FakeAgent node;
        private final Thread answering;
        private final List<PipedOutputStream> logs = new CopyOnWriteArrayList<>();
        /** Each stream asked for, as kind and parameters. */
        final List<String> asked = new CopyOnWriteArrayList<>();

        NodeStreams(FakeAgent node) {
            this.node = node;
            this.answering = Thread.ofVirtual().name("console-node-streams").start(this::answerAll);
        }

        private void answerAll() {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    JsonNode stream = node.streams.take();
                    var params = ApiJson.mapper().convertValue(stream.path("params"), Map.class);
                    String kind = stream.path("kind").asString();
                    asked.add(kind + " " + new TreeMap<>(params));
                    switch (kind) {
                        case "logs" -> answerLog(stream, "true".equals(params.get("follow")));
                        case "events" -> node.answer(stream, 200, "application/json",
                                new ByteArrayInputStream(ApiJson.mapper().writeValueAsBytes(events())));
                        default -> node.answer(stream, 404, "application/json", new ByteArrayInputStream(
                                "{\"error\":{\"code\":\"not_found\",\"message\":\"not in this test\"}}"
                                        .getBytes(StandardCharsets.UTF_8)));
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException e) {
                throw new UncheckedIOException("answer a stream of the console's node", e);
            }
        }

        /** The workload's log: three lines, then (followed) open until the test ends. */
        private void answerLog(JsonNode stream, boolean follow) throws IOException {
            byte[] line = ("web: starting\nweb: listening on 0.0.0.0:8080\n" + LOG_LINE + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            if (!follow) {
                node.answer(stream, 200, "text/plain; charset=utf-8", new ByteArrayInputStream(line));
                return;
            }
            var workload = new PipedOutputStream();
            var body = new PipedInputStream(workload, 65536);
            logs.add(workload);
            node.answer(stream, 200, "text/plain; charset=utf-8", body);
            workload.write(line);
            workload.flush();
        }

        private static List<MachineEvent> events() {
            Instant now = Instant.now();
            return List.of(
                    new MachineEvent(1, "created", MachineState.CREATED, null, null, "", now.minusSeconds(3)),
                    new MachineEvent(2, "starting", MachineState.STARTING, null, null, "", now.minusSeconds(2)),
                    new MachineEvent(3, "running", MachineState.RUNNING, null, null, "the workload started",
                            now.minusSeconds(1)));
        }

        @Override
        public void close() throws IOException, InterruptedException {
            answering.interrupt();
            answering.join();
            for (var log : logs) log.close();
        }
    }

    /** Installs the pinned playwright-core under target/ unless it is there; its ES module's path. */
    private static Path installPlaywright() throws IOException, InterruptedException {
        Path module = PLAYWRIGHT.resolve("node_modules/playwright-core");
        Path manifest = module.resolve("package.json");
        if (!Files.exists(manifest) || !ApiJson.mapper().readTree(Files.readString(manifest)).path("version")
                .asString().equals(PLAYWRIGHT_CORE)) {
            Files.createDirectories(PLAYWRIGHT);
            Path log = PLAYWRIGHT.resolve("npm-install.log");
            Process npm = new ProcessBuilder("npm", "install", "--prefix", PLAYWRIGHT.toString(), "--no-audit",
                    "--no-fund", "--no-save", "playwright-core@" + PLAYWRIGHT_CORE)
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            npm.getOutputStream().close();
            boolean ended = npm.waitFor(10, TimeUnit.MINUTES);
            if (!ended) npm.destroyForcibly();
            assertThat(ended && npm.exitValue() == 0).as("npm install playwright-core@%s: %s", PLAYWRIGHT_CORE,
                    Files.readString(log)).isTrue();
        }
        return module.resolve("index.mjs");
    }

    private static Optional<Path> onPath(String tool) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(":")).filter(d -> !d.isEmpty())
                .map(d -> Path.of(d, tool)).filter(Files::isExecutable).findFirst();
    }
}
