package dev.bolero.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.testing.ContractHttpClient;
import dev.bolero.api.ApiJson;
import dev.bolero.api.ExecRequest;
import dev.bolero.api.ExecResult;
import dev.bolero.api.ExecStream;
import dev.bolero.api.MachineEvent;
import dev.bolero.core.MachineState;
import dev.bolero.server.WebSocketInbox;
import dev.bolero.server.FakeAgent;
import dev.bolero.server.OneNodeCluster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The client's logs, events and exec (request/response and the interactive socket) against a real control plane on
 * SQLite, with a {@link FakeAgent} as the machine's node whose answers the test writes. The thing under test is the
 * client: what it asks and how it hands over what comes back. The relay through a real agent and microVM is proven by
 * the agent module's {@code ClusterEndToEndTest}.
 */
class BoleroClientStreamsTest {
    /** Every answer the client reads whole is checked against the server's /v1/openapi.json. */
    private static final ContractHttpClient CONTRACT = new ContractHttpClient("/v1/openapi.json");

    private static final String TEXT = "text/plain; charset=utf-8";

    @TempDir
    Path dir;

    private OneNodeCluster cluster;
    private FakeAgent node;
    private BoleroClient admin;
    private String machine;

    @BeforeEach
    void start() {
        cluster = OneNodeCluster.start(dir);
        node = cluster.node();
        machine = cluster.machine();
        admin = new BoleroClient(URI.create("http://127.0.0.1:" + cluster.port()), OneNodeCluster.ADMIN, CONTRACT);
    }

    @AfterEach
    void stop() throws InterruptedException {
        cluster.close();
    }

    @Test
    void logs_pass_tail_since_and_timestamps_to_the_node_and_copy_its_answer() throws Exception {
        var out = new ByteArrayOutputStream();
        var options = new LogOptions(false, OptionalInt.of(3), Optional.of("2026-01-02T15:04:05+01:00"), true);
        var call = CompletableFuture.runAsync(() -> admin.logs("alpha", machine, options, out));

        JsonNode stream = node.nextStream();
        assertThat(stream.path("kind").asString()).isEqualTo("logs");
        assertThat(stream.path("machine_id").asString()).isEqualTo(machine);
        assertThat(ApiJson.mapper().convertValue(stream.path("params"), Map.class)).isEqualTo(Map.of(
                "tail", "3", "since", "2026-01-02T15:04:05+01:00", "timestamps", "true"));
        String log = "2026-01-02T14:04:06Z stdout one\n2026-01-02T14:04:07Z stderr two\n";
        node.answer(stream, 200, TEXT, new ByteArrayInputStream(log.getBytes(StandardCharsets.UTF_8)));

        call.get(30, TimeUnit.SECONDS);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(log);
    }

    @Test
    void a_followed_log_hands_over_each_line_as_it_comes_and_returns_when_the_stream_ends() throws Exception {
        var lines = new Lines();
        var call = CompletableFuture.runAsync(() -> admin.logs("alpha", machine,
                new LogOptions(true, OptionalInt.empty(), Optional.empty(), false), lines));
        JsonNode stream = node.nextStream();
        assertThat(ApiJson.mapper().convertValue(stream.path("params"), Map.class)).isEqualTo(Map.of("follow", "true"));

        try (var workload = new PipedOutputStream(); var nodeBody = new PipedInputStream(workload, 65536)) {
            var upload = node.answer(stream, 200, TEXT, nodeBody);
            workload.write("one\n".getBytes(StandardCharsets.UTF_8));
            workload.flush();
            assertThat(lines.next()).as("a line while the node's stream is open").isEqualTo("one");
            workload.write("two\n".getBytes(StandardCharsets.UTF_8));
            workload.flush();
            assertThat(lines.next()).isEqualTo("two");
            assertThat(call).as("the follow goes on while the stream is open").isNotDone();
            workload.close();
            call.get(30, TimeUnit.SECONDS);
            assertThat(upload.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(204);
        }
    }

    @Test
    void events_are_read_from_the_node_oldest_first() throws Exception {
        var call = CompletableFuture.supplyAsync(() -> admin.events("alpha", machine));
        JsonNode stream = node.nextStream();
        assertThat(stream.path("kind").asString()).isEqualTo("events");
        var history = List.of(
                new MachineEvent(1, "created", MachineState.CREATED, null, null, "", Instant.parse("2026-01-02T15:04:05Z")),
                new MachineEvent(2, "ended", MachineState.STOPPED, "exited", 7, "exit 7",
                        Instant.parse("2026-01-02T15:04:09Z")));
        node.answer(stream, 200, "application/json",
                new ByteArrayInputStream(ApiJson.mapper().writeValueAsBytes(history)));
        assertThat(call.get(30, TimeUnit.SECONDS)).isEqualTo(history);
    }

    @Test
    void exec_sends_the_request_to_the_node_and_returns_its_exit_code_stdout_and_stderr() throws Exception {
        var request = new ExecRequest(List.of("sh", "-c", "cat; echo oops >&2; exit 3"), Map.of("K", "v"), "/tmp",
                null, "in\n", 5);
        var call = CompletableFuture.supplyAsync(() -> admin.exec("alpha", machine, request));
        JsonNode stream = node.nextStream();
        assertThat(stream.path("kind").asString()).isEqualTo("exec");
        assertThat(ApiJson.mapper().readValue(stream.path("body").asString(), ExecRequest.class)).isEqualTo(request);
        var result = new ExecResult(3, "in\n", "oops\n", false, false);
        node.answer(stream, 200, "application/json",
                new ByteArrayInputStream(ApiJson.mapper().writeValueAsBytes(result)));
        assertThat(call.get(30, TimeUnit.SECONDS)).isEqualTo(result);
    }

    @Test
    void another_namespaces_machine_is_not_found() {
        var beta = new BoleroClient(URI.create("http://127.0.0.1:" + cluster.port()),
                admin.createToken("beta").token(), CONTRACT);
        var exec = new ExecRequest(List.of("true"), Map.of(), null, null, null, null);
        for (String ns : List.of("alpha", "beta")) {
            assertNotFound(() -> beta.logs(ns, machine, LogOptions.all(), OutputStream.nullOutputStream()));
            assertNotFound(() -> beta.events(ns, machine));
            assertNotFound(() -> beta.exec(ns, machine, exec));
        }
    }

    private static void assertNotFound(ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(ClientException.class, e -> {
            assertThat(e.status()).isEqualTo(404);
            assertThat(e.code()).as(e.getMessage()).isEqualTo("not_found");
        });
    }

    @Test
    void a_node_that_does_not_answer_makes_every_stream_unavailable() {
        var exec = new ExecRequest(List.of("true"), Map.of(), null, null, null, null);
        for (ThrowingCallable call : List.<ThrowingCallable>of(
                () -> admin.logs("alpha", machine, LogOptions.all(), OutputStream.nullOutputStream()),
                () -> admin.events("alpha", machine),
                () -> admin.exec("alpha", machine, exec))) {
            assertThatThrownBy(call).isInstanceOfSatisfying(ClientException.class, e -> {
                assertThat(e.status()).isEqualTo(503);
                assertThat(e.code()).isEqualTo("unavailable");
                assertThat(e.getMessage()).contains(machine, node.id(), "did not answer within 2 s");
            });
        }
    }

    @Test
    void a_nodes_error_answer_is_thrown_with_its_status_and_code() throws Exception {
        var call = CompletableFuture.supplyAsync(() -> admin.events("alpha", machine));
        String missing = "{\"error\":{\"code\":\"not_found\",\"message\":\"machine " + machine + " not found\"}}";
        node.answer(node.nextStream(), 404, "application/json",
                new ByteArrayInputStream(missing.getBytes(StandardCharsets.UTF_8)));
        assertThat(call).failsWithin(Duration.ofSeconds(30)).withThrowableThat().havingCause()
                .isInstanceOfSatisfying(ClientException.class, e -> {
                    assertThat(e.status()).isEqualTo(404);
                    assertThat(e.code()).as(e.getMessage()).isEqualTo("not_found");
                    assertThat(e.getMessage()).endsWith("machine " + machine + " not found");
                });
    }

    @Test
    void an_interactive_exec_through_the_server_reaches_the_node_and_ends_with_its_exit_code() throws Exception {
        var output = new Output();
        var start = ExecStream.Start.pipes(new ExecRequest(List.of("sh"), Map.of(), null, null, null, null));
        try (var exec = ExecClient.connect(execSocket("alpha"), Optional.of("Bearer " + OneNodeCluster.ADMIN), start, output)) {
            exec.input("ping\n".getBytes(StandardCharsets.UTF_8));
            exec.closeInput();

            JsonNode stream = node.nextStream();
            assertThat(stream.path("kind").asString()).isEqualTo("exec_ws");
            var atNode = new WebSocketInbox();
            var nodeSide = node.answerSocket(stream, atNode);
            assertThat(atNode.next()).isEqualTo("text:" + start.toJson());
            assertThat(atNode.next()).isEqualTo("binary:ping\n");
            assertThat(atNode.next()).isEqualTo("text:" + ApiJson.mapper().writeValueAsString(
                    ExecStream.Control.ofCloseStdin()));

            nodeSide.sendBinary(ByteBuffer.wrap(ExecStream.output(ExecStream.STDOUT, "pong\n".getBytes(StandardCharsets.UTF_8))), true).get(30, TimeUnit.SECONDS);
            nodeSide.sendBinary(ByteBuffer.wrap(ExecStream.output(ExecStream.STDERR, "oops\n".getBytes(StandardCharsets.UTF_8))), true).get(30, TimeUnit.SECONDS);
            nodeSide.sendText(ApiJson.mapper().writeValueAsString(new ExecStream.Exit(3)), true).get(30, TimeUnit.SECONDS);
            nodeSide.sendClose(1000, "exited").get(30, TimeUnit.SECONDS);

            assertThat(exec.await()).isEqualTo(3);
            assertThat(output.stdout.toString(StandardCharsets.UTF_8)).isEqualTo("pong\n");
            assertThat(output.stderr.toString(StandardCharsets.UTF_8)).isEqualTo("oops\n");
        }
    }

    @Test
    void an_interactive_exec_is_refused_for_another_namespace_and_unavailable_without_a_node() throws Exception {
        String beta = admin.createToken("beta").token();
        var start = ExecStream.Start.pipes(new ExecRequest(List.of("true"), Map.of(), null, null, null, null));
        for (String ns : List.of("alpha", "beta")) {
            ThrowingCallable connect = () -> ExecClient.connect(execSocket(ns), Optional.of("Bearer " + beta), start,
                    new Output());
            assertNotFound(connect);
            // the server's own message from the refusal's body, not only the status
            assertThatThrownBy(connect).hasMessageNotContaining("HTTP 404").hasMessageContaining(machine);
        }
        try (var exec = ExecClient.connect(execSocket("alpha"), Optional.of("Bearer " + OneNodeCluster.ADMIN), start, new Output())) {
            assertThat(node.nextStream().path("kind").asString()).isEqualTo("exec_ws");
            assertThatThrownBy(exec::await).isInstanceOfSatisfying(ClientException.class, e -> {
                assertThat(e.code()).isEqualTo("unavailable");
                assertThat(e.getMessage()).contains("did not answer within 2 s");
            });
        }
    }

    private URI execSocket(String ns) {
        return URI.create("ws://127.0.0.1:" + cluster.port() + "/v1/namespaces/" + ns + "/machines/" + machine
                + "/exec");
    }

    /** Keeps what the command wrote, stdout and stderr apart. */
    private static final class Output implements ExecClient.Output {
        final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

        @Override
        public synchronized void stdout(byte[] data) {
            stdout.writeBytes(data);
        }

        @Override
        public synchronized void stderr(byte[] data) {
            stderr.writeBytes(data);
        }
    }

    /** An output that queues each whole line written to it. */
    private static final class Lines extends OutputStream {
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            if (b == '\n') {
                lines.add(line.toString(StandardCharsets.UTF_8));
                line.reset();
            } else {
                line.write(b);
            }
        }

        String next() throws InterruptedException {
            String l = lines.poll(30, TimeUnit.SECONDS);
            assertThat(l).as("a line within 30 s").isNotNull();
            return l;
        }
    }
}
