package dev.bolero.agent.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.server.Http.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Volume moves on real VMs: a control-plane server (SQLite, in this JVM) and two real agents (each its own JVM and
 * network namespace) booting QEMU machines from a real registry. A machine writes 16 MiB of random data and its
 * checksum to its volume and keeps writing while it runs; {@code POST …/volumes/data/move} copies the volume to the
 * other node (the machine stopped only for the final pass) and the machine follows; then a drain of that node moves
 * both back. After each move the machine, booted on its new node, finds the data with the checksum it stored, its
 * boot count went on, and the node it left holds no file of the volume (nor does any node hold a partial copy).
 */
class VolumeMoveEndToEndTest {
    /** The workload: data and its checksum at the first boot; at every boot both checksums and a boot count. */
    private static final String SCRIPT = "if [ ! -f /data/blob ]; then head -c 16777216 /dev/urandom > /data/blob; "
            + "sha256sum /data/blob | cut -d' ' -f1 > /data/blob.sum; fi; "
            + "echo \"stored-sum: $(cat /data/blob.sum)\"; "
            + "echo \"found-sum: $(sha256sum /data/blob | cut -d' ' -f1)\"; "
            + "n=$(( $(cat /data/boots 2>/dev/null || echo 0) + 1 )); echo $n > /data/boots; echo \"boot: $n\"; "
            + "sync; echo up; while true; do date >> /data/ticks; sync; sleep 1; done";
    private static final Pattern STORED = Pattern.compile("stored-sum: ([0-9a-f]{64})");
    private static final Pattern FOUND = Pattern.compile("found-sum: ([0-9a-f]{64})");

    @TempDir
    static Path dir;

    private static TestCluster cluster;
    private static String image;
    private static List<AgentNode> nodes;

    @BeforeAll
    static void setUp() throws Exception {
        cluster = TestCluster.builder(dir, "volmove").image("volmove/writer:1", ImageSpec.cmd("sh", "-c", SCRIPT))
                .timing(TestCluster.QUICK_LOSS).nodes("m1", "m2").start();
        image = cluster.image();
        nodes = cluster.nodes();
        assertThat(api("POST", "/v1/namespaces", "{\"name\": \"alpha\"}").status()).isEqualTo(201);
        assertThat(api("POST", "/v1/namespaces/alpha/fleets", "{\"name\": \"db\"}").status()).isEqualTo(201);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (cluster != null) cluster.close();
    }

    @Test
    void aVolumeAndItsMachineMoveToAnotherNodeWithTheDataIntactByMoveAndByDrain() throws Exception {
        var created = api("POST", "/v1/namespaces/alpha/volumes", "{\"name\": \"data\", \"size_gb\": 1}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String volumeId = created.json().path("id").asString();
        String machine = create("w1");
        String firstLogs = logsOnce(machine, "boot: 1");
        String sum = match(STORED, firstLogs);
        assertThat(match(FOUND, firstLogs)).isEqualTo(sum);
        AgentNode first = nodeOf(machine);
        AgentNode second = nodes.stream().filter(n -> n != first).findFirst().orElseThrow();

        var moving = api("POST", "/v1/namespaces/alpha/volumes/data/move", "{}");
        assertThat(moving.status()).as(moving.body()).isEqualTo(202);
        assertThat(moving.json().path("to_node").asString()).isEqualTo(second.id);
        // The move is done once the volume is recorded on its new node and its machine followed it there.
        JsonNode move = awaitMove(moving.json().path("id").asString());
        assertThat(move.path("state").asString()).as(move.toString()).isEqualTo("done");
        assertThat(move.toString()).contains("stopped on node " + first.id, "final pass", "recorded on node "
                + second.id, "started on node " + second.id);
        assertThat(passBytes(move, 2)).as("the final pass carries the blocks changed since pass 1 only")
                .isLessThan(passBytes(move, 1));
        assertMovedWithData(machine, volumeId, first, second, sum, "boot: 2");

        assertThat(api("POST", "/v1/nodes/" + second.id + "/drain", null).status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() ->
                api("GET", "/v1/namespaces/alpha/volumes/data/moves", null).json().size() == 2);
        JsonNode drained = awaitMove(api("GET", "/v1/namespaces/alpha/volumes/data/moves", null).json().get(0)
                .path("id").asString());
        assertThat(drained.path("state").asString()).as(drained.toString()).isEqualTo("done");
        assertMovedWithData(machine, volumeId, second, first, sum, "boot: 3");

        // A move whose target dies mid-copy: the volume stays usable where it is, the target drops its partial copy.
        assertThat(api("POST", "/v1/nodes/" + second.id + "/uncordon", null).status()).isEqualTo(200);
        var doomed = api("POST", "/v1/namespaces/alpha/volumes/data/move", "{\"node\": \"" + second.id + "\"}");
        assertThat(doomed.status()).as(doomed.body()).isEqualTo(202);
        Path partial = second.dataDir.resolve("volumes").resolve(volumeId + ".incoming");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> Files.exists(partial));
        second.kill();
        JsonNode failed = awaitMove(doomed.json().path("id").asString());
        assertThat(failed.path("state").asString()).as(failed.toString()).isEqualTo("failed");
        assertThat(failed.path("error").asString()).contains("node " + second.id + " is down");
        assertThat(api("GET", "/v1/namespaces/alpha/volumes/data", null).json().path("node_id").asString())
                .isEqualTo(first.id);
        assertThat(nodeOf(machine)).isSameAs(first);
        assertThat(first.localState(machine)).as("the machine was never stopped (pass 1)").isEqualTo("running");
        second.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> !Files.exists(partial));
        assertThat(second.volumeFiles()).as("files left on node %s by the failed move", second.name).isEmpty();
        assertThat(first.volumeFiles()).containsExactly(volumeId + ".ext4");
    }

    /**
     * The machine runs on {@code to} and read there what it wrote (boot {@code boot}); the volume lives on {@code to}
     * and only there, with no partial copy anywhere.
     */
    private static void assertMovedWithData(String machine, String volumeId, AgentNode from, AgentNode to, String sum,
                                            String boot) throws Exception {
        String logs = logsOnce(machine, boot);
        assertThat(match(STORED, logs)).as("the checksum stored at the first boot").isEqualTo(sum);
        assertThat(match(FOUND, logs)).as("the data's checksum on the new node").isEqualTo(sum);
        assertThat(nodeOf(machine)).isSameAs(to);
        assertThat(api("GET", "/v1/namespaces/alpha/volumes/data", null).json().path("node_id").asString())
                .isEqualTo(to.id);
        Path left = from.dataDir.resolve("volumes").resolve(volumeId + ".ext4");
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(left));
        assertThat(from.volumeFiles()).as("the volume's files left on node %s", from.name).isEmpty();
        assertThat(to.volumeFiles()).as("the volume's files on node %s", to.name).containsExactly(volumeId + ".ext4");
    }

    /** The bytes of data pass {@code pass} of {@code move} carried, as its steps say. */
    private static long passBytes(JsonNode move, int pass) {
        return match(Pattern.compile("applied pass " + pass + ": \\d+ changed blocks, (\\d+) bytes"),
                move.path("steps").toString()).transform(Long::parseLong);
    }

    /** Waits until move {@code id} of volume data ended; it as the API shows it. */
    private static JsonNode awaitMove(String id) {
        var ended = new AtomicReference<JsonNode>();
        await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            for (JsonNode m : api("GET", "/v1/namespaces/alpha/volumes/data/moves", null).json()) {
                if (m.path("id").asString().equals(id)) {
                    assertThat(m.path("state").asString()).as(m.toString()).isIn("done", "failed");
                    ended.set(m);
                }
            }
            assertThat(ended.get()).isNotNull();
        });
        return ended.get();
    }

    private static AgentNode nodeOf(String machine) {
        String id = api("GET", "/v1/namespaces/alpha/machines/" + machine, null).json().path("node_id").asString();
        return nodes.stream().filter(n -> n.id.equals(id)).findFirst().orElseThrow(() ->
                new AssertionError("machine " + machine + " is on node " + id));
    }

    /** Creates and starts a machine of the test image mounting volume data at {@code /data}; its id. */
    private static String create(String name) {
        var r = api("POST", "/v1/namespaces/alpha/fleets/db/machines", "{\"name\": \"" + name + "\", \"start\": true, "
                + "\"config\": {\"image\": \"" + image + "\", \"guest\": {\"cpus\": 1, \"memory_mb\": 256}, "
                + "\"mounts\": [{\"volume\": \"data\", \"path\": \"/data\"}]}}");
        assertThat(r.status()).as("create %s: %s", name, r.body()).isEqualTo(201);
        return r.json().path("id").asString();
    }

    /** The machine's logs once they hold {@code line} and its workload said {@code up}. */
    private static String logsOnce(String id, String line) {
        var logs = new AtomicReference<String>();
        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            var r = api("GET", "/v1/namespaces/alpha/machines/" + id + "/logs", null);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.body()).as("logs of %s: %s", id, api("GET", "/v1/namespaces/alpha/machines/" + id, null)
                    .body()).contains(line).contains("up");
            logs.set(r.body());
        });
        return logs.get();
    }

    private static String match(Pattern pattern, String logs) {
        Matcher m = pattern.matcher(logs);
        assertThat(m.find()).as("%s in %s", pattern, logs).isTrue();
        return m.group(1);
    }

    private static Response api(String method, String path, String body) {
        return cluster.api(method, path, body);
    }
}
