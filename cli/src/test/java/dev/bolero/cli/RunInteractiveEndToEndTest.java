package dev.bolero.cli;

import static dev.bolero.cli.OneNodeCluster.NS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.api.wire.Capacity;
import dev.bolero.cli.CliProcess.Run;
import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.TestImages;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * {@code bolero run -it} and {@code run -i} as separate processes against a real server and agent (one node) and real
 * QEMU microVMs, one per test: the machine's workload is the command, on a terminal or reading a pipe, and the CLI
 * exits with its status. With {@code -t} the CLI runs under {@code script} (util-linux), which gives it a terminal of
 * a known size, and the test types into it as a user would, waiting for each answer.
 */
class RunInteractiveEndToEndTest {
    @TempDir
    static Path dir;

    private static OneNodeCluster cluster;
    private static String image;

    @BeforeAll
    static void setUp() throws Exception {
        cluster = new OneNodeCluster(dir, "runit", new Capacity(2, 2048));
        image = TestImages.push(cluster.registry, "runit/shell:1", ImageSpec.cmd("sh"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (cluster != null) cluster.close();
    }

    @Test
    void run_it_puts_the_user_s_terminal_on_the_workload_keys_and_size_go_through_and_its_exit_is_the_cli_s()
            throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "script (util-linux) is not installed");
        var command = new ArrayList<>(CliProcess.javaCommand());
        command.addAll(cluster.arguments("run", "-it", "--name", "shell", "-e", "PS1=remote> ", "--memory", "128",
                image, "sh"));
        String cli = String.join(" ", command.stream().map(a -> "'" + a + "'").toList());
        // script gives the CLI a terminal of its own, here 33 rows by 101 columns
        Process p = CliProcess.builder(dir, List.of("script", "-qec", "stty rows 33 cols 101; before=$(stty -g); "
                + cli + "; echo local-exit=$?; [ \"$(stty -g)\" = \"$before\" ] && echo terminal-restored",
                "/dev/null")).redirectErrorStream(true).start();
        var screen = new Screen(p.getInputStream());
        try (OutputStream keys = p.getOutputStream()) {
            screen.await("remote> ", Duration.ofSeconds(240));
            type(keys, "echo typed-$((40+2))\r");
            screen.await("typed-42", Duration.ofSeconds(60));
            type(keys, "stty size\r");
            screen.await("33 101", Duration.ofSeconds(60));
            // ^C reaches the workload's foreground job, not the CLI: the shell stays and answers
            type(keys, "sh -c 'echo sleep-$((3*3)); exec sleep 600'\r");
            screen.await("sleep-9", Duration.ofSeconds(60));
            type(keys, "\u0003");
            type(keys, "echo after-$((2+2))\r");
            screen.await("after-4", Duration.ofSeconds(60));
            type(keys, "exit 3\r");
            screen.await("terminal-restored", Duration.ofSeconds(60));
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        } finally {
            p.destroyForcibly();
        }
        assertThat(screen.text()).contains("local-exit=3");
        var machine = named("shell");
        assertThat(machine).hasSize(1);
        String id = machine.getFirst().path("id").asString();
        cluster.waitFor(id, "stopped");
        assertThat(cluster.api("GET", NS + "/machines/" + id, null).json().path("exit_code").asInt()).isEqualTo(3);
        assertThat(cluster.logs(id)).as("the session is in the machine's log").contains("typed-42");
    }

    @Test
    void run_i_pipes_stdin_to_the_workload_exits_with_its_status_and_rm_deletes_the_machine() throws Exception {
        Run r = cluster.boleroWithInput("piped line\n", "run", "-i", "--rm", "--name", "piped", "--memory", "128",
                image, "--", "sh", "-c", "cat; echo to-err >&2; exit 5");
        assertThat(r.stdout()).as(r.stderr()).isEqualTo("piped line\n");
        assertThat(r.stderr()).isEqualTo("to-err\n");
        assertThat(r.exit()).isEqualTo(5);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(named("piped")).isEmpty());
    }

    @Test
    void run_rm_deletes_the_machine_once_its_command_ends_and_the_control_plane_never_makes_it_again()
            throws Exception {
        Run r = cluster.bolero("run", "-o", "json", "-d", "--rm", "--name", "once", "--memory", "128", image, "--",
                "sh", "-c", "echo once");
        assertThat(r.exit()).as(r.stderr()).isZero();
        String id = dev.bolero.api.ApiJson.mapper().readTree(r.stdout()).path("id").asString();
        assertThat(id).as(r.stdout()).isNotEmpty();
        // The node destroys it when its command ends (auto_destroy) and reports so; the control plane deletes it.
        await().atMost(Duration.ofSeconds(240)).untilAsserted(() -> assertThat(named("once")).isEmpty());
        // Before, the control plane still wanted it and the node made and ran it again under the same id.
        await().during(Duration.ofSeconds(10)).atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(named("once")).isEmpty();
            assertThat(cluster.local("GET", "/api/v1/machines/" + id).status()).as("on the node").isEqualTo(404);
        });
    }

    /** The namespace's machines named {@code name}. */
    private static List<JsonNode> named(String name) {
        var out = new ArrayList<JsonNode>();
        cluster.api("GET", NS + "/machines", null).json().forEach(m -> {
            if (m.path("name").asString().equals(name)) out.add(m);
        });
        return out;
    }

    private static void type(OutputStream keys, String text) throws IOException {
        keys.write(text.getBytes(StandardCharsets.UTF_8));
        keys.flush();
    }

    /** What the terminal shows, read on a thread of its own. */
    private static final class Screen {
        private final StringBuilder text = new StringBuilder();

        Screen(InputStream in) {
            Thread.ofVirtual().start(() -> {
                byte[] buf = new byte[4096];
                try {
                    for (int n; (n = in.read(buf)) >= 0; ) {
                        synchronized (text) {
                            text.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                        }
                    }
                } catch (IOException e) {
                    // the process ended
                }
            });
        }

        String text() {
            synchronized (text) {
                return text.toString();
            }
        }

        void await(String expected, Duration atMost) {
            org.awaitility.Awaitility.await().atMost(atMost).pollInterval(Duration.ofMillis(50))
                    .untilAsserted(() -> assertThat(text()).contains(expected));
        }
    }
}
