package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.oci.testing.ImageSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

/**
 * The machine lifecycle against real QEMU microVMs: conflicts naming the state, the event history with end reasons,
 * stop defaults from the config, restart policies with their count, auto_destroy, and exec inside the workload's
 * root.
 */
class LifecycleEndToEndTest {
    @RegisterExtension
    static final AgentFixture env = AgentFixture.withImage("lifecycle/app:1", ImageSpec.cmd("sh", "-c", "echo hello"));

    @Test
    void exec_runs_in_the_workload_root_and_stop_uses_the_configured_defaults_and_is_recorded(AgentHarness node) {
        String id = node.create("""
                {"start": true, "config": {"image": "%s", "stop": {"signal": "SIGINT", "timeout_s": 30},
                 "init": {"cmd": ["sh", "-c", "echo up > /tmp/marker; echo up; exec sleep 600"]}}}
                """.formatted(env.image()));
        node.waitFor(id, "running", 240);
        // Running means the workload started; its "up" line says it has written the marker the exec below reads.
        await().atMost(Duration.ofSeconds(60)).until(() -> node.logs(id).contains("up\n"));

        AgentHarness.Response again = node.post("/api/v1/machines/" + id + "/start", "");
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.errorMessage()).isEqualTo("start machine " + id + ": it is running");

        JsonNode r = node.exec(id, """
                {"cmd": ["sh", "-c", "cat /tmp/marker; echo to-err >&2; cat; echo \\"$X|$(pwd)\\"; exit 3"],
                 "env": {"X": "x1"}, "workdir": "/tmp", "stdin": "from-stdin\\n"}""");
        assertThat(r.path("exit_code").asInt()).isEqualTo(3);
        assertThat(r.path("stdout").asString()).isEqualTo("up\nfrom-stdin\nx1|/tmp\n");
        assertThat(r.path("stderr").asString()).isEqualTo("to-err\n");
        assertThat(r.path("timed_out").asBoolean()).isFalse();

        assertThat(node.exec(id, "{\"cmd\": [\"id\", \"-u\"]}").path("stdout").asString()).isEqualTo("0\n");
        assertThat(node.exec(id, "{\"cmd\": [\"id\", \"-u\"], \"user\": \"app\"}").path("stdout").asString())
                .isEqualTo("1000\n");

        JsonNode slow = node.exec(id, "{\"cmd\": [\"sleep\", \"600\"], \"timeout_s\": 1}");
        assertThat(slow.path("timed_out").asBoolean()).isTrue();
        assertThat(slow.path("exit_code").asInt()).isEqualTo(137);

        AgentHarness.Response missing = node.post("/api/v1/machines/" + id + "/exec", "{\"cmd\": [\"/no/such\"]}");
        assertThat(missing.status()).as(missing.body()).isEqualTo(400);
        assertThat(missing.errorMessage()).isEqualTo(
                "exec in machine " + id + ": exec /no/such: No such file or directory");

        assertThat(node.post("/api/v1/machines/" + id + "/stop", "").status()).isEqualTo(200);
        JsonNode stopped = node.waitFor(id, "stopped", 90);
        assertThat(stopped.path("exit_code").asInt()).as("SIGINT from the config's stop block").isEqualTo(130);

        AgentHarness.Response stopAgain = node.post("/api/v1/machines/" + id + "/stop", "");
        assertThat(stopAgain.status()).isEqualTo(409);
        assertThat(stopAgain.errorMessage()).isEqualTo("stop machine " + id + ": it is stopped");
        AgentHarness.Response execStopped = node.post("/api/v1/machines/" + id + "/exec", "{\"cmd\": [\"true\"]}");
        assertThat(execStopped.status()).isEqualTo(409);

        JsonNode events = node.get("/api/v1/machines/" + id + "/events").json();
        assertThat(types(events)).containsExactly("created", "starting", "running", "stopping", "ended");
        JsonNode ended = events.get(4);
        assertThat(ended.path("reason").asString()).isEqualTo("stopped by request");
        assertThat(ended.path("exit_code").asInt()).isEqualTo(130);
        assertThat(ended.path("state").asString()).isEqualTo("stopped");
        assertThat(ended.path("time").asString()).isNotEmpty();
    }

    @Test
    void on_failure_restarts_with_a_visible_count_until_max_retries(AgentHarness node) {
        String id = node.create("""
                {"start": true, "config": {"image": "%s", "restart": {"policy": "on-failure", "max_retries": 2},
                 "init": {"cmd": ["sh", "-c", "echo run; exit 3"]}}}
                """.formatted(env.image()));
        await().atMost(Duration.ofMinutes(8)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            JsonNode m = node.get("/api/v1/machines/" + id).json();
            return m.path("restart_count").asInt() == 2 && m.path("state").asString().equals("stopped");
        });
        JsonNode m = node.get("/api/v1/machines/" + id).json();
        assertThat(m.path("exit_code").asInt()).isEqualTo(3);
        assertThat(node.logs(id)).isEqualTo("run\nrun\nrun\n");
        List<String> types = types(node.get("/api/v1/machines/" + id + "/events").json());
        assertThat(types.stream().filter("restarting"::equals)).hasSize(2);
        assertThat(types.stream().filter("ended"::equals)).hasSize(3);
        assertThat(types.getLast()).as("no third restart").isEqualTo("ended");
    }

    @Test
    void auto_destroy_removes_the_machine_when_its_workload_exits(AgentHarness node) {
        String id = node.create("""
                {"start": true, "config": {"image": "%s", "auto_destroy": true, "init": {"cmd": ["true"]}}}
                """.formatted(env.image()));
        await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1))
                .until(() -> node.get("/api/v1/machines/" + id).status() == 404);
        // The row goes first, the files right after it (a crash in between leaves a stray directory the next agent
        // removes).
        Path dir = env.dataDir().resolve("machines").resolve(id);
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(dir));
        assertThat(AgentHarness.processesMentioning(id)).isEmpty();
    }

    private static List<String> types(JsonNode events) {
        List<String> out = new ArrayList<>();
        events.forEach(e -> out.add(e.path("type").asString()));
        return out;
    }
}
