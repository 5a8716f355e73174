package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.TestImages;
import dev.bolero.oci.testing.TestRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Suspend and resume with a real QEMU guest and an agent in its own JVM: one machine whose workload counts in memory
 * and serves HTTP is suspended, the agent is killed and restarted while it is, and a start resumes it (same process,
 * counting on, listener answering, clock corrected); then a changed root drive makes the next start boot cold with
 * the event that says why. Two cold boots and two resumes in all (the second of a VM that was resumed: its RAM
 * is kept beside the devices' state again).
 */
class SuspendResumeEndToEndTest {
    private static final Pattern COUNT = Pattern.compile("n=(\\d+) pid=(\\d+)");

    @TempDir
    Path dataDir;

    private TestRegistry registry;
    private KillableAgent agent;

    @BeforeEach
    void setUp() throws Exception {
        registry = TestRegistry.start();
        agent = new KillableAgent(dataDir);
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            agent.close();
        } finally {
            registry.close();
        }
    }

    @Test
    void a_suspended_machine_resumes_where_it_was_even_after_an_agent_restart_and_boots_cold_when_its_drive_changed()
            throws Exception {
        String image = TestImages.push(registry, "snap/app:1", ImageSpec.cmd("sh", "-c", "exec sleep 600"));
        agent.start();
        String id = agent.create(image, "counter", "[\"sh\", \"-c\", \"mkdir -p /www && echo hello > /www/index.html"
                + " && httpd -p 8080 -h /www && i=0; while true; do i=$((i+1)); echo n=$i pid=$$; sleep 0.2; done\"]");
        agent.waitFor(id, "running");
        await().atMost(Duration.ofSeconds(60)).until(() -> counts(agent.logs(id)).size() >= 3);
        assertThat(exec(id, "wget -qO- http://127.0.0.1:8080/").path("stdout").asString()).isEqualTo("hello\n");
        Path machineDir = dataDir.resolve("machines").resolve(id);

        // An exec in flight at the suspend fails, and says why.
        CompletableFuture<AgentHarness.Response> inFlight = CompletableFuture.supplyAsync(() ->
                agent.post("/api/v1/machines/" + id + "/exec", "{\"cmd\": [\"sleep\", \"60\"]}"));
        await().atMost(Duration.ofSeconds(30)).until(() -> guestHasSleep60(id));
        AgentHarness.Response suspended = agent.post("/api/v1/machines/" + id + "/suspend", "");
        assertThat(suspended.status()).as(suspended.body()).isEqualTo(200);
        assertThat(suspended.json().path("state").asString()).isEqualTo("suspended");
        AgentHarness.Response failedExec = inFlight.get();
        assertThat(failedExec.status()).as(failedExec.body()).isEqualTo(400);
        assertThat(failedExec.errorMessage()).isEqualTo("exec in machine " + id + ": the machine is being suspended");
        assertThat(AgentHarness.processesMentioning(machineDir + "/")).as("no VMM while suspended").isEmpty();
        Path state = machineDir.resolve("snapshot/qemu-state");
        Path memory = machineDir.resolve("snapshot/qemu-memory");
        for (Path file : List.of(state, memory)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        }
        assertThat(Files.size(state)).as("the stream holds the devices' state, the RAM is beside it")
                .isPositive().isLessThan(16L << 20);
        assertThat(Files.size(memory)).as("the guest's 128 MiB").isEqualTo(128L << 20);
        AgentHarness.Response execSuspended = agent.post("/api/v1/machines/" + id + "/exec", "{\"cmd\": [\"true\"]}");
        assertThat(execSuspended.status()).isEqualTo(409);
        List<long[]> before = counts(agent.logs(id));
        long pid = before.getFirst()[1];
        long last = before.getLast()[0];

        // The agent dies while the machine is suspended; the next one finds it suspended.
        agent.kill();
        Thread.sleep(10_000); // long enough for a guest clock left standing to be visibly behind
        agent.start();
        assertThat(agent.get("/api/v1/machines/" + id).json().path("state").asString()).isEqualTo("suspended");

        AgentHarness.Response started = agent.post("/api/v1/machines/" + id + "/start", "");
        assertThat(started.status()).as(started.body()).isEqualTo(200);
        agent.waitFor(id, "running");
        assertThat(types(events(id))).contains("suspended", "resumed").doesNotContain("snapshot_discarded");
        await().atMost(Duration.ofSeconds(60)).until(() -> counts(agent.logs(id)).getLast()[0] > last + 5);
        List<long[]> after = counts(agent.logs(id));
        assertThat(after).as("the same process counts on: one pid, no count starts again")
                .allSatisfy(c -> assertThat(c[1]).isEqualTo(pid));
        assertThat(after.stream().filter(c -> c[0] == 1).count()).isEqualTo(1);
        assertThat(exec(id, "wget -qO- http://127.0.0.1:8080/").path("stdout").asString()).isEqualTo("hello\n");
        long guestNow = Long.parseLong(exec(id, "date +%s").path("stdout").asString().strip());
        assertThat(Math.abs(guestNow - Instant.now().getEpochSecond())).as("the guest's clock was set at resume")
                .isLessThan(5);
        assertThat(Files.exists(machineDir.resolve("snapshot"))).as("a used snapshot is removed").isFalse();

        // The resumed VM's RAM is a memfd again: the next suspend keeps it beside the devices' state as well.
        assertThat(agent.post("/api/v1/machines/" + id + "/suspend", "").status()).isEqualTo(200);
        assertThat(Files.size(state)).isLessThan(16L << 20);
        assertThat(Files.size(memory)).isEqualTo(128L << 20);
        long lastAgain = counts(agent.logs(id)).getLast()[0];
        assertThat(agent.post("/api/v1/machines/" + id + "/start", "").status()).isEqualTo(200);
        agent.waitFor(id, "running");
        assertThat(types(events(id)).stream().filter("resumed"::equals).count()).isEqualTo(2);
        await().atMost(Duration.ofSeconds(60)).until(() -> counts(agent.logs(id)).getLast()[0] > lastAgain + 5);
        assertThat(counts(agent.logs(id))).allSatisfy(c -> assertThat(c[1]).isEqualTo(pid));

        // A snapshot whose drive changed since the suspend is discarded: the machine boots cold instead.
        assertThat(agent.post("/api/v1/machines/" + id + "/suspend", "").status()).isEqualTo(200);
        Path overlay = machineDir.resolve("root.qcow2");
        Files.setLastModifiedTime(overlay, FileTime.from(Instant.now().plusSeconds(60)));
        assertThat(agent.post("/api/v1/machines/" + id + "/start", "").status()).isEqualTo(200);
        agent.waitFor(id, "running");
        JsonNode discarded = eventsOfType(events(id), "snapshot_discarded");
        assertThat(discarded.path("detail").asString()).startsWith("booted instead of resuming: root drive changed");
        await("the count starts again").atMost(Duration.ofSeconds(60))
                .until(() -> counts(agent.logs(id)).stream().filter(c -> c[0] == 1).count() == 2);

        // Delete removes the snapshot with the machine's directory.
        assertThat(agent.post("/api/v1/machines/" + id + "/suspend", "").status()).isEqualTo(200);
        assertThat(Files.exists(state)).isTrue();
        assertThat(agent.delete("/api/v1/machines/" + id).status()).isEqualTo(204);
        assertThat(Files.exists(machineDir)).isFalse();
    }

    private boolean guestHasSleep60(String id) {
        return exec(id, "ps").path("stdout").asString().contains("sleep 60");
    }

    /** Each {@code n=N pid=P} line of the logs as {N, P}. */
    private static List<long[]> counts(String logs) {
        List<long[]> out = new ArrayList<>();
        Matcher m = COUNT.matcher(logs);
        while (m.find()) out.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
        return out;
    }

    private JsonNode exec(String id, String script) {
        AgentHarness.Response r = agent.post("/api/v1/machines/" + id + "/exec",
                "{\"cmd\": [\"sh\", \"-c\", \"" + script + "\"]}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    private JsonNode events(String id) {
        return agent.get("/api/v1/machines/" + id + "/events").json();
    }

    private static List<String> types(JsonNode events) {
        List<String> types = new ArrayList<>();
        events.forEach(e -> types.add(e.path("type").asString()));
        return types;
    }

    private static JsonNode eventsOfType(JsonNode events, String type) {
        for (JsonNode e : events) if (e.path("type").asString().equals(type)) return e;
        throw new AssertionError("no " + type + " event in " + events);
    }
}
