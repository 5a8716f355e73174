package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.ApiJson;
import dev.bolero.api.ExecRequest;
import dev.bolero.api.ExecStream;
import dev.bolero.cli.CliProcess.Run;
import dev.bolero.server.WebSocketInbox;
import dev.bolero.server.FakeAgent;
import dev.bolero.server.OneNodeCluster;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * {@code bolero logs} and {@code bolero exec} (through the control plane) as separate processes against a real
 * control plane on SQLite, with a {@link FakeAgent} as the machine's node whose answers the test writes. The thing
 * under test is the CLI: what it asks, what it prints where, and its exit codes. The relay through a real agent and
 * microVM is proven by the agent module's {@code ClusterEndToEndTest}.
 */
class StreamCommandsTest {
    private static final String TEXT = "text/plain; charset=utf-8";

    @TempDir
    Path dir;

    private OneNodeCluster cluster;
    private FakeAgent node;
    private String machine;

    @BeforeEach
    void start() {
        cluster = OneNodeCluster.start(dir.resolve("server"));
        node = cluster.node();
        machine = cluster.machine();
    }

    @AfterEach
    void stop() throws InterruptedException {
        cluster.close();
    }

    @Test
    void logs_prints_the_nodes_log_and_passes_tail_since_and_timestamps() throws Exception {
        var cli = inBackground(() -> bolero("logs", "--tail", "2", "--since", "1767366245", "-t",
                machine));
        JsonNode stream = node.nextStream();
        assertThat(stream.path("kind").asString()).isEqualTo("logs");
        assertThat(ApiJson.mapper().convertValue(stream.path("params"), Map.class)).isEqualTo(Map.of(
                "tail", "2", "since", "1767366245", "timestamps", "true"));
        String log = "2026-01-02T15:04:06Z stdout one\n2026-01-02T15:04:07Z stderr two\n";
        node.answer(stream, 200, TEXT, new ByteArrayInputStream(log.getBytes(StandardCharsets.UTF_8)));

        Run r = cli.get(120, TimeUnit.SECONDS);
        assertThat(r.stderr()).isEmpty();
        assertThat(r.stdout()).isEqualTo(log);
        assertThat(r.exit()).isZero();
    }

    @Test
    void logs_without_options_asks_for_the_whole_log() throws Exception {
        var cli = inBackground(() -> bolero("logs", machine));
        JsonNode stream = node.nextStream();
        assertThat(stream.path("params").properties()).isEmpty();
        node.answer(stream, 200, TEXT, new ByteArrayInputStream("all\n".getBytes(StandardCharsets.UTF_8)));
        Run r = cli.get(120, TimeUnit.SECONDS);
        assertThat(r.stdout()).isEqualTo("all\n");
        assertThat(r.exit()).isZero();
    }

    @Test
    void logs_f_prints_each_line_as_it_comes_and_ends_when_the_stream_ends() throws Exception {
        List<String> command = new ArrayList<>(CliProcess.javaCommand());
        command.addAll(endpoint("alpha", "logs", "-f", machine));
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process p = CliProcess.builder(dir, command).redirectError(err.toFile()).start();
        try {
            p.getOutputStream().close();
            var lines = new LinkedBlockingQueue<String>();
            Thread.ofVirtual().start(() -> readLines(p, lines));
            JsonNode stream = node.nextStream();
            assertThat(ApiJson.mapper().convertValue(stream.path("params"), Map.class))
                    .isEqualTo(Map.of("follow", "true"));
            try (var workload = new PipedOutputStream(); var nodeBody = new PipedInputStream(workload, 65536)) {
                node.answer(stream, 200, TEXT, nodeBody);
                workload.write("one\n".getBytes(StandardCharsets.UTF_8));
                workload.flush();
                assertThat(next(lines)).as("a line while the node's stream is open").isEqualTo("one");
                workload.write("two\n".getBytes(StandardCharsets.UTF_8));
                workload.flush();
                assertThat(next(lines)).isEqualTo("two");
                assertThat(p.isAlive()).as("the follow goes on while the stream is open").isTrue();
            }
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("bolero logs -f ended with the stream").isTrue();
            assertThat(Files.readString(err)).isEmpty();
            assertThat(p.exitValue()).isZero();
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void logs_exits_3_for_a_machine_it_cannot_see_and_5_when_the_node_does_not_answer() {
        Run missing = bolero("logs", "no-such-machine");
        assertThat(missing.exit()).isEqualTo(3);
        assertThat(missing.stderr()).startsWith("bolero: ").contains("no machine has the id, id prefix or name 'no-such-machine'");
        Run foreign = boleroIn("beta", "logs", machine);
        assertThat(foreign.exit()).isEqualTo(3);

        Run silent = bolero("logs", machine);
        assertThat(silent.exit()).isEqualTo(5);
        assertThat(silent.stderr()).contains(machine, node.id(), "did not answer within 2 s");
    }

    @Test
    void exec_through_the_server_prints_stdout_and_stderr_apart_and_exits_with_the_remote_exit_code()
            throws Exception {
        var cli = inBackground(() -> bolero("exec", "-e", "K=v", machine, "--", "sh", "-c", "x"));
        JsonNode stream = node.nextStream();
        assertThat(stream.path("kind").asString()).isEqualTo("exec_ws");
        var atNode = new WebSocketInbox();
        var nodeSide = node.answerSocket(stream, atNode);
        assertThat(atNode.next()).isEqualTo("text:" + ExecStream.Start.pipes(
                new ExecRequest(List.of("sh", "-c", "x"), Map.of("K", "v"), null, null, null, null)).toJson());
        assertThat(atNode.next()).as("without -i, stdin is closed at once").isEqualTo("text:"
                + ApiJson.mapper().writeValueAsString(ExecStream.Control.ofCloseStdin()));
        nodeSide.sendBinary(ByteBuffer.wrap(ExecStream.output(ExecStream.STDOUT, "pong\n".getBytes(StandardCharsets.UTF_8))), true).get(30, TimeUnit.SECONDS);
        nodeSide.sendBinary(ByteBuffer.wrap(ExecStream.output(ExecStream.STDERR, "oops\n".getBytes(StandardCharsets.UTF_8))), true).get(30, TimeUnit.SECONDS);
        nodeSide.sendText(ApiJson.mapper().writeValueAsString(new ExecStream.Exit(4)), true).get(30, TimeUnit.SECONDS);
        nodeSide.sendClose(1000, "exited").get(30, TimeUnit.SECONDS);

        Run r = cli.get(120, TimeUnit.SECONDS);
        assertThat(r.stdout()).isEqualTo("pong\n");
        assertThat(r.stderr()).isEqualTo("oops\n");
        assertThat(r.exit()).isEqualTo(4);
    }

    @Test
    void exec_through_the_server_exits_3_for_a_machine_it_cannot_see_and_5_when_the_node_does_not_answer() {
        Run foreign = boleroIn("beta", "exec", machine, "--", "true");
        assertThat(foreign.exit()).as(foreign.stderr()).isEqualTo(3);
        assertThat(foreign.stderr()).startsWith("bolero: ").contains(machine);

        Run silent = bolero("exec", machine, "--", "true");
        assertThat(silent.exit()).as(silent.stderr()).isEqualTo(5);
        assertThat(silent.stderr()).contains("did not answer within 2 s");
    }

    /** {@code VERB}, the flags for this server, the admin token and namespace {@code ns}, then {@code args}. */
    private List<String> endpoint(String ns, String verb, String... args) {
        var all = new ArrayList<>(List.of(verb, "--server", "http://127.0.0.1:" + cluster.port(), "--token", OneNodeCluster.ADMIN,
                "-n", ns));
        all.addAll(List.of(args));
        return all;
    }

    /** Runs {@code bolero VERB ARGS…} against this server in namespace {@code alpha}. */
    private Run bolero(String verb, String... args) {
        return boleroIn("alpha", verb, args);
    }

    /** Runs {@code bolero VERB ARGS…} against this server in namespace {@code ns}. */
    private Run boleroIn(String ns, String verb, String... args) {
        try {
            return CliProcess.bolero(dir, "", endpoint(ns, verb, args).toArray(String[]::new));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code cli} on a thread of its own (a CLI run blocks its thread for its whole length). */
    private static CompletableFuture<Run> inBackground(java.util.function.Supplier<Run> cli) {
        var run = new CompletableFuture<Run>();
        Thread.ofVirtual().start(() -> {
            try {
                run.complete(cli.get());
            } catch (RuntimeException | AssertionError e) {
                run.completeExceptionally(e);
            }
        });
        return run;
    }

    private static void readLines(Process p, BlockingQueue<String> lines) {
        try (var in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) lines.add(line);
        } catch (IOException e) {
            // the process is gone
        }
    }

    private static String next(BlockingQueue<String> lines) throws InterruptedException {
        String line = lines.poll(60, TimeUnit.SECONDS);
        assertThat(line).as("a line within 60 s").isNotNull();
        return line;
    }
}
