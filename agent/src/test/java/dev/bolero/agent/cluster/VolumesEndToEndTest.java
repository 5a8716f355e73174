package dev.bolero.agent.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.server.Http.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Volumes on real VMs: a control-plane server (SQLite, in this JVM) and one real agent (its own JVM and network
 * namespace) booting QEMU machines from a real registry. A machine writes to its volume and is destroyed; the volume is
 * extended while detached; a new machine mounting it reads what the first wrote, on a file system grown to the new
 * size; a snapshot of it restored into a new volume holds the same data for a third machine; the volume's node file
 * (sparse, {@code 0600}, formatted by mkfs.ext4) and the snapshot's go only when the volumes are deleted. Three VMs
 * boot, one at a time.
 */
class VolumesEndToEndTest {
    /** The workload: what the volume held, its size as the guest sees it, then a line of its own on it. */
    private static final String SCRIPT = "echo \"found: $(cat /data/marker 2>/dev/null || echo nothing)\"; "
            + "echo \"size-kib: $(df -k /data | tail -n 1 | awk '{print $2}')\"; "
            + "echo \"written-by-$(hostname)\" > /data/marker; sync; echo up; exec sleep 3600";
    private static final Pattern SIZE = Pattern.compile("size-kib: (\\d+)");

    @TempDir
    static Path dir;

    private static TestCluster cluster;
    private static String image;
    private static List<AgentNode> nodes;

    @BeforeAll
    static void setUp() throws Exception {
        cluster = TestCluster.builder(dir, "volumes").image("volumes/writer:1", ImageSpec.cmd("sh", "-c", SCRIPT))
                .nodes("v1").start();
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
    void aVolumeKeepsItsDataAcrossMachinesAndItsFileSystemGrowsAfterAnExtend() throws Exception {
        var created = api("POST", "/v1/namespaces/alpha/volumes", "{\"name\": \"data\", \"size_gb\": 1}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String volumeId = created.json().path("id").asString();

        String first = create("w1", "data");
        String firstLogs = logsOnceUp(first);
        assertThat(firstLogs).contains("found: nothing");
        long firstKib = size(firstLogs);
        assertThat(firstKib).as("a 1 GiB volume").isBetween(900_000L, 1_048_576L);
        Path file = nodes.getFirst().dataDir.resolve("volumes").resolve(volumeId + ".ext4");
        assertThat(Files.size(file)).isEqualTo(1L << 30);
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(AgentNode.allocatedBytes(file)).as("sparse").isLessThan(256L << 20);

        destroy(first, "data");
        var extended = api("PUT", "/v1/namespaces/alpha/volumes/data/extend", "{\"size_gb\": 2}");
        assertThat(extended.status()).as(extended.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.size(file) == 2L << 30);

        String second = create("w2", "data");
        String secondLogs = logsOnceUp(second);
        assertThat(secondLogs).as("what the first machine wrote").contains("found: written-by-");
        assertThat(size(secondLogs)).as("grown at mount to the extended device").isGreaterThan(firstKib + 900_000L);

        destroy(second, "data");

        var snapshot = api("POST", "/v1/namespaces/alpha/volumes/data/snapshots", null);
        assertThat(snapshot.status()).as(snapshot.body()).isEqualTo(201);
        String snapshotId = snapshot.json().path("id").asString();
        var restored = api("POST", "/v1/namespaces/alpha/volumes", "{\"name\": \"restored\", \"size_gb\": 2, "
                + "\"snapshot\": \"" + snapshotId + "\"}");
        assertThat(restored.status()).as(restored.body()).isEqualTo(201);
        Path copy = file.resolveSibling(snapshotId + ".ext4");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(copy));
        String third = create("w3", "restored");
        assertThat(logsOnceUp(third)).as("the snapshot's data in the restored volume").contains("found: written-by-");
        destroy(third, "restored");

        for (String volume : List.of("restored", "data")) {
            assertThat(api("DELETE", "/v1/namespaces/alpha/volumes/" + volume, null).status()).isEqualTo(204);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(file) && !Files.exists(copy));
        try (Stream<Path> left = Files.list(file.getParent())) {
            assertThat(left).as("volume files left on the node").isEmpty();
        }
    }

    /** Creates and starts a machine of the test image mounting {@code volume} at {@code /data}; its id. */
    private static String create(String name, String volume) {
        var r = api("POST", "/v1/namespaces/alpha/fleets/db/machines", "{\"name\": \"" + name + "\", \"start\": true, "
                + "\"config\": {\"image\": \"" + image + "\", \"guest\": {\"cpus\": 1, \"memory_mb\": 256}, "
                + "\"mounts\": [{\"volume\": \"" + volume + "\", \"path\": \"/data\"}]}}");
        assertThat(r.status()).as("create %s: %s", name, r.body()).isEqualTo(201);
        return r.json().path("id").asString();
    }

    /** The machine's logs once its workload said {@code up} (it has written its marker and synced). */
    private static String logsOnceUp(String id) {
        var logs = new java.util.concurrent.atomic.AtomicReference<String>();
        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            var r = api("GET", "/v1/namespaces/alpha/machines/" + id + "/logs", null);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.body()).as("logs of %s: %s", id, machine(id)).contains("up");
            logs.set(r.body());
        });
        return logs.get();
    }

    /** Deletes a machine and waits until its node confirmed it gone ({@code volume} is then detached). */
    private static void destroy(String id, String volume) {
        assertThat(api("DELETE", "/v1/namespaces/alpha/machines/" + id, null).status()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() ->
                api("GET", "/v1/namespaces/alpha/volumes/" + volume, null).json().path("machine_id").isNull());
    }

    private static long size(String logs) {
        Matcher m = SIZE.matcher(logs);
        assertThat(m.find()).as("size in %s", logs).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static JsonNode machine(String id) {
        return api("GET", "/v1/namespaces/alpha/machines/" + id, null).json();
    }

    private static Response api(String method, String path, String body) {
        return cluster.api(method, path, body);
    }
}
