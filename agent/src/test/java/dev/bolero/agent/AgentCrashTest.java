package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.TestImages;
import dev.bolero.oci.testing.TestRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The agent dies with {@code kill -9} in the middle of creates, stops and deletes; a new agent on the same data
 * directory must find every machine in a state that matches reality, not restart running VMMs, keep the output
 * produced while it was down, and leave no orphan process or directory.
 */
class AgentCrashTest {
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
    void a_killed_agent_restarts_into_a_state_that_matches_reality_and_loses_nothing() throws Exception {
        String image = TestImages.push(registry, "crash/app:1", ImageSpec.cmd("sh", "-c", "exec sleep 600"));
        agent.start();
        String counter = agent.create(image, "counter", "[\"sh\", \"-c\", \"i=0; while true; do i=$((i+1)); echo n=$i;"
                + " sleep 0.2; done\"]");
        String stopped = agent.create(image, "stopme", "[\"sh\", \"-c\", \"exec sleep 600\"]");
        String deleted = agent.create(image, "deleteme", "[\"sh\", \"-c\", \"exec sleep 600\"]");
        for (String id : List.of(counter, stopped, deleted)) agent.waitFor(id, "running");
        Map<String, List<Long>> pidsBefore = new HashMap<>();
        for (String id : List.of(counter, stopped, deleted)) {
            pidsBefore.put(id, AgentHarness.processesMentioning(dataDir.resolve("machines").resolve(id) + "/"));
            assertThat(pidsBefore.get(id)).isNotEmpty();
        }

        await().atMost(Duration.ofSeconds(60)).until(() -> lastCounter(agent.logs(counter)) >= 3);

        // In flight when the agent dies: a create+start, a stop, a forced delete.
        CompletableFuture<?> create = CompletableFuture.runAsync(() -> agent.post("/api/v1/machines",
                "{\"config\": {\"image\": \"" + image + "\"}, \"name\": \"midcreate\", \"start\": true}"));
        CompletableFuture<?> stop = CompletableFuture.runAsync(() ->
                agent.post("/api/v1/machines/" + stopped + "/stop", "{\"timeout_s\": 30}"));
        CompletableFuture<?> del = CompletableFuture.runAsync(() ->
                agent.delete("/api/v1/machines/" + deleted + "?force=true"));
        int beforeKill = lastCounter(agent.logs(counter));
        Thread.sleep(150);
        agent.kill(); // SIGKILL
        for (CompletableFuture<?> f : List.of(create, stop, del)) f.exceptionally(e -> null).join();
        Thread.sleep(3000); // the counter keeps printing while no agent listens
        agent.start();

        // Running machines were re-adopted, not restarted.
        JsonNode c = agent.get("/api/v1/machines/" + counter).json();
        assertThat(c.path("state").asString()).isEqualTo("running");
        assertThat(AgentHarness.processesMentioning(dataDir.resolve("machines").resolve(counter) + "/"))
                .isEqualTo(pidsBefore.get(counter));
        // Output produced while the agent was down reached the new one: the counter has no gap.
        await().atMost(Duration.ofSeconds(30)).until(() -> lastCounter(agent.logs(counter)) > 25);
        // Frames are kept by the guest until the agent confirms it persisted them: no line is lost, none out of
        // order; one the dead agent persisted but had not confirmed yet may come twice (at least once).
        List<Integer> seen = counters(agent.logs(counter));
        assertThat(seen).as("lines written before the kill are kept").contains(beforeKill);
        assertThat(seen).as("in order").isSorted();
        assertThat(seen.stream().distinct().toList()).as("no gap in the whole output")
                .isEqualTo(java.util.stream.IntStream.rangeClosed(1, seen.getLast()).boxed().toList());

        // Every machine's state matches its processes; let in-flight ends settle first.
        await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).until(this::settled);
        Set<String> known = new HashSet<>();
        for (JsonNode m : agent.get("/api/v1/machines").json()) {
            String id = m.path("id").asString();
            known.add(id);
            String state = m.path("state").asString();
            List<Long> vmm = AgentHarness.processesMentioning(dataDir.resolve("machines").resolve(id) + "/");
            if (state.equals("running")) {
                assertThat(vmm).as("%s is running: its VMM (and jailer)", m).isNotEmpty();
            } else {
                assertThat(vmm).as("%s is %s: no VMM", m, state).isEmpty();
            }
            if (pidsBefore.containsKey(id) && state.equals("running")) {
                assertThat(vmm).as("%s not restarted", id).isEqualTo(pidsBefore.get(id));
            }
        }
        assertThat(known).contains(counter, stopped);
        try (Stream<Path> dirs = Files.list(dataDir.resolve("machines"))) {
            assertThat(dirs.map(d -> d.getFileName().toString()).toList())
                    .as("no directory without a machine").allMatch(known::contains);
        }
        Set<Long> ofKnownMachines = new HashSet<>();
        for (String id : known) {
            ofKnownMachines.addAll(AgentHarness.processesMentioning(dataDir.resolve("machines").resolve(id) + "/"));
        }
        for (long pid : AgentHarness.processesMentioning(dataDir.resolve("machines") + "/")) {
            String cmd = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
            assertThat(ofKnownMachines).as("orphan process %d: %s", pid, cmd).contains(pid);
        }
        JsonNode s = agent.get("/api/v1/machines/" + stopped).json();
        assertThat(s.path("state").asString()).as(s.toString()).isIn("stopped", "running");
    }

    @Test
    void output_and_exit_of_a_workload_that_ends_while_no_agent_runs_reach_the_next_agent() throws Exception {
        String image = TestImages.push(registry, "crash/last:1", ImageSpec.cmd("sh", "-c", "exec sleep 600"));
        agent.start();
        String id = agent.create(image, "lastwords", "[\"sh\", \"-c\", \"sleep 4; echo last-words; exit 5\"]");
        agent.waitFor(id, "running");
        agent.kill(); // SIGKILL, before the workload ends
        Path machineDir = dataDir.resolve("machines").resolve(id);
        Thread.sleep(15_000); // the workload ended, and longer ago than init used to wait for an ACK
        assertThat(AgentHarness.processesMentioning(machineDir + "/")).as("the VM waits for a host").isNotEmpty();

        agent.start();
        agent.waitFor(id, "stopped");
        JsonNode m = agent.get("/api/v1/machines/" + id).json();
        assertThat(m.path("exit_code").asInt()).as(m.toString()).isEqualTo(5);
        assertThat(agent.logs(id)).isEqualTo("last-words\n");
        await().atMost(Duration.ofMinutes(1)).until(() -> AgentHarness.processesMentioning(machineDir + "/").isEmpty());
    }

    /** No machine is in a transient state. */
    private boolean settled() {
        for (JsonNode m : agent.get("/api/v1/machines").json()) {
            String state = m.path("state").asString();
            if (state.equals("starting") || state.equals("stopping")) return false;
        }
        return true;
    }

    private static int lastCounter(String logs) {
        List<Integer> c = counters(logs);
        return c.isEmpty() ? 0 : c.getLast();
    }

    private static List<Integer> counters(String logs) {
        List<Integer> out = new ArrayList<>();
        for (String line : logs.split("\n")) {
            if (line.startsWith("n=")) out.add(Integer.parseInt(line.substring(2)));
        }
        return out;
    }
}
