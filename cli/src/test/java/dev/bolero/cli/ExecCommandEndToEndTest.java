package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.awaitility.Awaitility.await;

import dev.bolero.agent.Agent;
import dev.bolero.agent.AgentConfig;
import dev.bolero.cli.CliProcess.Run;
import dev.bolero.api.ApiJson;
import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.TestImages;
import dev.bolero.oci.testing.TestRegistry;
import dev.bolero.runtime.qemu.QemuDriver;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bolero exec} as a separate process against a real node agent and QEMU microVM: piped stdin, stdout and
 * stderr apart, the remote exit code as the CLI's.
 */
class ExecCommandEndToEndTest {
    @TempDir
    static Path dataDir;

    private static TestRegistry registry;
    private static Agent agent;
    private static String machine;
    private static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void setUp() throws Exception {
        registry = TestRegistry.start();
        String image = TestImages.push(registry, "cliexec/app:1", ImageSpec.cmd("sh", "-c", "echo ready; exec sleep 600"));
        agent = Agent.start(new AgentConfig("127.0.0.1", 0, dataDir.resolve("agent"), Set.of(),
                QemuDriver.Accel.AUTO, Optional.empty(), Duration.ofSeconds(180)));
        HttpResponse<String> created = http("POST", "/api/v1/machines",
                "{\"start\": true, \"config\": {\"image\": \"" + image + "\"}}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        machine = ApiJson.mapper().readTree(created.body()).path("id").asString();
        HttpResponse<String> running = http("GET",
                "/api/v1/machines/" + machine + "/wait?state=running,failed&timeout_s=240", null);
        assertThat(ApiJson.mapper().readTree(running.body()).path("state").asString()).as(running.body())
                .isEqualTo("running");
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            if (agent != null && machine != null) http("DELETE", "/api/v1/machines/" + machine + "?force=true", null);
        } finally {
            try {
                if (agent != null) agent.close();
            } finally {
                if (registry != null) registry.close();
            }
        }
    }

    @Test
    void logs_from_the_agent_directly_print_the_workload_s_output() throws Exception {
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            Run r = bolero("", "logs", "--agent", agentUrl(), machine);
            assertThat(r.exit()).as(r.stderr()).isZero();
            assertThat(r.stdout()).isEqualTo("ready\n");
        });
        Run missing = bolero("", "logs", "--agent", agentUrl(), "no-such-machine");
        assertThat(missing.exit()).as("not found").isEqualTo(3);
        assertThat(missing.stderr()).contains("no-such-machine");
    }

    @Test
    void exec_pipes_stdin_keeps_stderr_apart_and_exits_with_the_remote_exit_code() throws Exception {
        Run r = bolero("piped\n", "exec", "-i", "--agent", agentUrl(), machine, "--",
                "sh", "-c", "cat; echo to-err >&2; exit 4");
        assertThat(r.stdout()).isEqualTo("piped\n");
        assertThat(r.stderr()).isEqualTo("to-err\n");
        assertThat(r.exit()).isEqualTo(4);
    }

    @Test
    void without_i_the_command_sees_an_empty_stdin() throws Exception {
        Run r = bolero("ignored\n", "exec", "--agent", agentUrl(), machine, "--", "sh", "-c", "cat; echo done");
        assertThat(r.stdout()).isEqualTo("done\n");
        assertThat(r.exit()).isZero();
    }

    @Test
    void errors_are_reported_with_the_cli_exit_codes() throws Exception {
        Run missing = bolero("", "exec", "--agent", agentUrl(), "no-such-machine", "--", "true");
        assertThat(missing.exit()).isEqualTo(3);
        assertThat(missing.stderr()).isEqualTo("bolero: machine no-such-machine not found\n");
        Run noTty = bolero("", "exec", "-it", "--agent", agentUrl(), machine, "--", "sh");
        assertThat(noTty.exit()).isEqualTo(2);
        assertThat(noTty.stderr()).isEqualTo("bolero: exec -t: the input is not a terminal\n");
    }

    @Test
    void with_t_the_command_runs_on_a_terminal_of_the_local_terminal_s_size() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "script (util-linux) is not installed");
        String cli = String.join(" ", CliProcess.javaCommand().stream().map(a -> "'" + a + "'").toList())
                + " exec -t --agent " + agentUrl() + " " + machine + " -- sh -c 'tty; stty size; exit 7'";
        // script gives the CLI a terminal of its own, here 33 rows by 101 columns
        Run r = CliProcess.run(dataDir, "", List.of("script", "-qec", "stty rows 33 cols 101; before=$(stty -g); "
                + cli + "; echo local-exit=$?; [ \"$(stty -g)\" = \"$before\" ] && echo terminal-restored", "/dev/null"));
        assertThat(r.stdout()).containsPattern("/dev/pts/[0-9]+\r\n33 101\r\n");
        assertThat(r.stdout()).contains("local-exit=7").contains("terminal-restored");
    }

    private static String agentUrl() {
        return "http://127.0.0.1:" + agent.port();
    }

    private static Run bolero(String stdin, String... args) throws IOException, InterruptedException {
        return CliProcess.bolero(dataDir, stdin, args);
    }

    private static HttpResponse<String> http(String method, String path, String json)
            throws IOException, InterruptedException {
        var request = HttpRequest.newBuilder(URI.create(agentUrl() + path)).timeout(Duration.ofMinutes(5))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(json))
                .header("Content-Type", "application/json");
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
