package dev.bolero.agent.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.TestImages;
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
 * Off-node volume snapshots on real VMs: a control-plane server (SQLite, in this JVM) and two real agents (each its own
 * JVM and network namespace) booting QEMU machines from a real registry. A machine writes 16 MiB of random data and its
 * checksum to its volume and is destroyed; a snapshot of the volume is taken on its node and copied to the other node,
 * verified (its digest recorded); the volume's node is killed; the snapshot restored into a new volume lands on the
 * other node, where a second machine finds the data with the checksum stored. Deleting the snapshot removes every copy,
 * the one on the lost node once it is back. And on a running machine that keeps writing to its volume: a snapshot
 * taken meanwhile (its guest freezes the file system) is a clean file system ({@code e2fsck -fn}), the machine writes
 * on after it (thawed); an extend grows the guest's file system at once ({@code df}), without a restart. Three VMs
 * boot, one at a time.
 */
class VolumeSnapshotEndToEndTest {
    /** The workload: data and its checksum at the first boot; at every boot both checksums. */
    private static final String SCRIPT = "if [ ! -f /data/blob ]; then head -c 16777216 /dev/urandom > /data/blob; "
            + "sha256sum /data/blob | cut -d' ' -f1 > /data/blob.sum; fi; "
            + "echo \"stored-sum: $(cat /data/blob.sum)\"; "
            + "echo \"found-sum: $(sha256sum /data/blob | cut -d' ' -f1)\"; sync; echo up; exec sleep 3600";
    /** The busy workload: writes 256 KiB files to its volume without end, a pause every 8. */
    private static final String BUSY = "i=0; echo up; while true; do i=$((i+1)); "
            + "head -c 262144 /dev/urandom > /data/w.$((i % 32)); [ $((i % 8)) -eq 0 ] && sleep 1; done";
    private static final Pattern STORED = Pattern.compile("stored-sum: ([0-9a-f]{64})");
    private static final Pattern FOUND = Pattern.compile("found-sum: ([0-9a-f]{64})");

    @TempDir
    static Path dir;

    private static TestCluster cluster;
    private static String image;
    private static String busyImage;
    private static List<AgentNode> nodes;

    @BeforeAll
    static void setUp() throws Exception {
        // The volume's node is lost on purpose: down after 8 s of silence.
        cluster = TestCluster.builder(dir, "volsnap").image("volsnap/writer:1", ImageSpec.cmd("sh", "-c", SCRIPT))
                .timing(TestCluster.QUICK_LOSS).nodes("s1", "s2").start();
        image = cluster.image();
        busyImage = TestImages.push(cluster.registry(), "volsnap/busy:1", ImageSpec.cmd("sh", "-c", BUSY));
        nodes = cluster.nodes();
        assertThat(api("POST", "/v1/namespaces", "{\"name\": \"alpha\"}").status()).isEqualTo(201);
        assertThat(api("POST", "/v1/namespaces/alpha/fleets", "{\"name\": \"db\"}").status()).isEqualTo(201);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (cluster != null) cluster.close();
    }

    @Test
    void aSnapshotCopiedToAnotherNodeIsRestoredThereWhenItsVolumesNodeIsLost() throws Exception {
        var created = api("POST", "/v1/namespaces/alpha/volumes", "{\"name\": \"data\", \"size_gb\": 1}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String writer = create("w1", "data");
        String sum = match(STORED, logsOnceUp(writer));
        AgentNode first = nodeOf(writer);
        AgentNode second = nodes.stream().filter(n -> n != first).findFirst().orElseThrow();
        destroy(writer, "data");

        var taken = api("POST", "/v1/namespaces/alpha/volumes/data/snapshots", null);
        assertThat(taken.status()).as(taken.body()).isEqualTo(201);
        String snapshot = taken.json().path("id").asString();
        assertThat(taken.json().path("node_id").asString()).isEqualTo(first.id);
        assertThat(taken.json().path("copies").get(0).path("node_id").asString()).isEqualTo(second.id);
        JsonNode copy = awaitCopy(snapshot);
        assertThat(copy.path("state").asString()).as(copy.toString()).isEqualTo("verified");
        assertThat(copy.path("digest").asString()).matches("[0-9a-f]{64}");
        Path copied = second.dataDir.resolve("volumes").resolve(snapshot + ".ext4");
        assertThat(Files.size(copied)).isEqualTo(1L << 30);
        assertThat(AgentNode.allocatedBytes(copied)).as("the copy is sparse").isLessThan(256L << 20);
        assertThat(first.volumeFiles()).contains(snapshot + ".ext4");

        first.kill();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() ->
                api("GET", "/v1/nodes/" + first.id, null).json().path("state").asString().equals("down"));
        var restored = api("POST", "/v1/namespaces/alpha/volumes", "{\"name\": \"restored\", \"size_gb\": 1, "
                + "\"snapshot\": \"" + snapshot + "\"}");
        assertThat(restored.status()).as(restored.body()).isEqualTo(201);
        assertThat(restored.json().path("node_id").asString()).as("restored where the copy is").isEqualTo(second.id);
        String reader = create("r1", "restored");
        String logs = logsOnceUp(reader);
        assertThat(match(STORED, logs)).as("the checksum stored before the snapshot").isEqualTo(sum);
        assertThat(match(FOUND, logs)).as("the data's checksum in the restored volume").isEqualTo(sum);
        assertThat(nodeOf(reader)).isSameAs(second);

        assertThat(api("DELETE", "/v1/namespaces/alpha/volumes/data/snapshots/" + snapshot, null).status())
                .isEqualTo(204);
        assertThat(api("GET", "/v1/namespaces/alpha/volumes/data/snapshots", null).json()).isEmpty();
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(copied));
        first.start();
        Path original = first.dataDir.resolve("volumes").resolve(snapshot + ".ext4");
        await().atMost(Duration.ofSeconds(60)).until(() -> !Files.exists(original));
        String volumeId = created.json().path("id").asString();
        assertThat(first.volumeFiles()).as("the lost node keeps its volume only").containsExactly(volumeId + ".ext4");
        assertThat(second.volumeFiles()).as("the other node keeps the restored volume only")
                .containsExactly(restored.json().path("id").asString() + ".ext4");
    }

    @Test
    void aSnapshotOfAVolumeInUseIsConsistentAndAnExtendGrowsTheRunningGuestsFileSystem() throws Exception {
        var created = api("POST", "/v1/namespaces/alpha/volumes", "{\"name\": \"live\", \"size_gb\": 1}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String busy = create("b1", "live", busyImage);
        logsOnceUp(busy);
        AgentNode node = nodeOf(busy);
        exec(busy, "sleep 2"); // let it write a while

        var taken = api("POST", "/v1/namespaces/alpha/volumes/live/snapshots", null);
        assertThat(taken.status()).as("a snapshot of an attached volume: %s", taken.body()).isEqualTo(201);
        String snapshot = taken.json().path("id").asString();
        Path file = node.dataDir.resolve("volumes").resolve(snapshot + ".ext4");
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> Files.exists(file));
        var fsck = new ProcessBuilder("e2fsck", "-fn", file.toString()).redirectErrorStream(true).start();
        String report = new String(fsck.getInputStream().readAllBytes());
        assertThat(fsck.waitFor()).as("e2fsck -fn of the snapshot taken while the machine wrote:\n%s", report)
                .isZero();
        assertThat(exec(busy, "echo after > /data/after-thaw && sync && cat /data/after-thaw"))
                .as("the machine writes on after the snapshot (thawed)").contains("after");

        long before = dfKib(busy);
        var extended = api("PUT", "/v1/namespaces/alpha/volumes/live/extend", "{\"size_gb\": 2}");
        assertThat(extended.status()).as(extended.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                assertThat(dfKib(busy)).as("df in the running guest after the extend").isGreaterThan(before
                        + 900_000L));
        assertThat(api("GET", "/v1/namespaces/alpha/machines/" + busy, null).json().path("state").asString())
                .isEqualTo("running");
        assertThat(exec(busy, "cat /data/after-thaw")).as("the same run: no restart").contains("after");

        destroy(busy, "live");
        assertThat(api("DELETE", "/v1/namespaces/alpha/volumes/live", null).status()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(file));
    }

    /** The size in KiB of the file system at /data as the running machine's {@code df} says. */
    private static long dfKib(String machine) {
        return Long.parseLong(exec(machine, "df -k /data | tail -n 1 | awk '{print $2}'").strip());
    }

    /** Runs {@code script} in the machine; its standard output (it must exit 0). */
    private static String exec(String machine, String script) {
        var r = api("POST", "/v1/namespaces/alpha/machines/" + machine + "/exec", "{\"cmd\": [\"sh\", \"-c\", \""
                + script.replace("\\", "\\\\").replace("\"", "\\\"") + "\"]}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().path("exit_code").asInt()).as(r.body()).isZero();
        return r.json().path("stdout").asString();
    }

    /** Waits until snapshot {@code id}'s copy is verified or failed; it as the API shows it. */
    private static JsonNode awaitCopy(String id) {
        var copy = new AtomicReference<JsonNode>();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            JsonNode c = snapshotById(id).path("copies").get(0);
            assertThat(c.path("state").asString()).as(c.toString()).isIn("verified", "failed");
            copy.set(c);
        });
        return copy.get();
    }

    private static JsonNode snapshotById(String id) {
        for (JsonNode s : api("GET", "/v1/namespaces/alpha/volumes/data/snapshots", null).json()) {
            if (s.path("id").asString().equals(id)) return s;
        }
        throw new AssertionError("no snapshot " + id);
    }

    private static AgentNode nodeOf(String machine) {
        String id = api("GET", "/v1/namespaces/alpha/machines/" + machine, null).json().path("node_id").asString();
        return nodes.stream().filter(n -> n.id.equals(id)).findFirst().orElseThrow(() ->
                new AssertionError("machine " + machine + " is on node " + id));
    }

    /** Creates and starts a machine of the writer image mounting {@code volume} at {@code /data}; its id. */
    private static String create(String name, String volume) {
        return create(name, volume, image);
    }

    /** Creates and starts a machine of {@code image} mounting {@code volume} at {@code /data}; its id. */
    private static String create(String name, String volume, String imageRef) {
        var r = api("POST", "/v1/namespaces/alpha/fleets/db/machines", "{\"name\": \"" + name + "\", \"start\": true, "
                + "\"config\": {\"image\": \"" + imageRef + "\", \"guest\": {\"cpus\": 1, \"memory_mb\": 256}, "
                + "\"mounts\": [{\"volume\": \"" + volume + "\", \"path\": \"/data\"}]}}");
        assertThat(r.status()).as("create %s: %s", name, r.body()).isEqualTo(201);
        return r.json().path("id").asString();
    }

    /** Deletes a machine and waits until its node confirmed it gone ({@code volume} is then detached). */
    private static void destroy(String id, String volume) {
        assertThat(api("DELETE", "/v1/namespaces/alpha/machines/" + id, null).status()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() ->
                api("GET", "/v1/namespaces/alpha/volumes/" + volume, null).json().path("machine_id").isNull());
    }

    /** The machine's logs once its workload said {@code up} (it has written its data and synced). */
    private static String logsOnceUp(String id) {
        var logs = new AtomicReference<String>();
        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            var r = api("GET", "/v1/namespaces/alpha/machines/" + id + "/logs", null);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.body()).as("logs of %s: %s", id, api("GET", "/v1/namespaces/alpha/machines/" + id, null)
                    .body()).contains("up");
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
