package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.TestImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

/**
 * The node's image routes against a real registry, and two real QEMU machines from one image sharing its base drive.
 */
class ImageApiEndToEndTest {
    @RegisterExtension
    static final AgentFixture env = AgentFixture.withImage("e2e/sleeper:1", ImageSpec.cmd("sleep", "600"));

    @Test
    void two_machines_of_one_image_share_its_base_drive_and_the_image_cannot_be_deleted_under_them(AgentHarness node)
            throws Exception {
        AgentHarness.Response pulled = node.post("/api/v1/images/pull", "{\"image\": \"" + env.image() + "\"}");
        assertThat(pulled.status()).as(pulled.body()).isEqualTo(200);
        String digest = pulled.json().path("digest").asString();
        assertThat(pulled.json().path("references").get(0).asString()).isEqualTo(env.image());
        Path base = env.dataDir().resolve("images").resolve(digest.substring("sha256:".length()))
                .resolve("rootfs.ext4");
        assertThat(pulled.json().path("root_drive_bytes").asLong()).isEqualTo(Files.size(base));

        String a = node.create("{\"start\": true, \"config\": {\"image\": \"" + env.image() + "\"}}");
        String b = node.create("{\"start\": true, \"config\": {\"image\": \"" + env.image() + "@" + digest + "\"}}");
        node.waitFor(a, "running", 240);
        node.waitFor(b, "running", 240);

        try (Stream<Path> drives = Files.list(env.dataDir().resolve("images"))) {
            assertThat(drives.filter(d -> !d.getFileName().toString().startsWith("."))).hasSize(1);
        }
        Object baseFile = fileKey(base);
        long baseAllocated = allocated(base);
        for (String id : List.of(a, b)) {
            assertThat(filesOpenedBy(id)).as("the VMM of %s reads the shared base drive itself", id).contains(baseFile);
            Path overlay;
            try (Stream<Path> files = Files.walk(env.dataDir().resolve("machines").resolve(id))) {
                overlay = files.filter(f -> f.toString().endsWith(".qcow2")).findFirst().orElseThrow();
            }
            JsonNode info = qemuImgInfo(overlay);
            assertThat(info.path("backing-filename").asString()).as("overlay of %s has a backing file", id).isNotEmpty();
            assertThat(allocated(overlay)).as("disk used by the overlay of %s (base uses %d)", id, baseAllocated)
                    .isLessThan(baseAllocated / 4);
        }

        AgentHarness.Response listed = node.get("/api/v1/images");
        assertThat(listed.json()).hasSize(1);
        assertThat(listed.json().get(0).path("machines")).extracting(JsonNode::asString).containsExactlyInAnyOrder(a, b);

        AgentHarness.Response refused = node.delete("/api/v1/images/" + digest);
        assertThat(refused.status()).as(refused.body()).isEqualTo(409);
        assertThat(refused.errorMessage()).contains(digest).contains("in use");
        assertThat(base).exists();

        assertThat(node.delete("/api/v1/machines/" + a + "?force=true").status()).isEqualTo(204);
        assertThat(node.delete("/api/v1/machines/" + b + "?force=true").status()).isEqualTo(204);
        AgentHarness.Response deleted = node.delete("/api/v1/images/" + digest);
        assertThat(deleted.status()).as(deleted.body()).isEqualTo(204);
        assertThat(base).doesNotExist();
        assertThat(node.get("/api/v1/images").json()).isEmpty();
        try (Stream<Path> blobs = Files.list(env.dataDir().resolve("blobs").resolve("sha256"))) {
            assertThat(blobs).as("blobs left after deleting the only image").isEmpty();
        }
        assertThat(node.delete("/api/v1/images/" + digest).status()).isEqualTo(404);
    }

    @Test
    void a_pull_with_progress_streams_one_line_per_layer_event_then_the_image(AgentHarness node) {
        String fresh = TestImages.push(env.registry(), "e2e/progress:1",
                ImageSpec.cmd("true").withFile("/progress", "1"));
        AgentHarness.Response r = node.post("/api/v1/images/pull?progress=true", "{\"image\": \"" + fresh + "\"}");
        assertThat(r.status()).isEqualTo(200);
        List<JsonNode> lines = r.body().lines().map(l -> dev.bolero.api.ApiJson.mapper().readTree(l)).toList();
        assertThat(lines.getLast().path("image").path("digest").asString()).startsWith("sha256:");
        assertThat(lines).filteredOn(l -> l.has("layer") && l.path("complete").asBoolean()).isNotEmpty();
    }

    @Test
    void a_pull_of_an_unknown_image_fails_naming_it_and_gc_reports_what_it_removed(AgentHarness node) {
        String none = env.registry().host() + "/e2e/none:1";
        AgentHarness.Response r = node.post("/api/v1/images/pull", "{\"image\": \"" + none + "\"}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.errorCode()).isEqualTo("failed_precondition");
        assertThat(r.errorMessage()).startsWith("pull " + none + ": ");
        assertThat(node.post("/api/v1/images/pull", "{\"image\": \"Not/Valid\"}").status()).isEqualTo(400);
        assertThat(node.post("/api/v1/images/pull", "{\"img\": \"x\"}").errorCode()).isEqualTo("invalid_argument");

        AgentHarness.Response gc = node.post("/api/v1/images/gc", "");
        assertThat(gc.status()).as(gc.body()).isEqualTo(200);
        assertThat(gc.json().has("blobs")).isTrue();
    }

    /** The identities (device and inode) of the files open in the processes of machine {@code id}. */
    private static List<Object> filesOpenedBy(String id) throws Exception {
        List<Object> keys = new java.util.ArrayList<>();
        for (long pid : AgentHarness.processesMentioning(id)) {
            try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
                for (Path fd : fds.toList()) {
                    try {
                        keys.add(fileKey(fd));
                    } catch (java.io.IOException e) {
                        // closed meanwhile
                    }
                }
            }
        }
        return keys;
    }

    private static Object fileKey(Path file) throws java.io.IOException {
        return Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
    }

    private static long allocated(Path file) throws Exception {
        Process du = new ProcessBuilder("du", "--block-size=1", file.toString()).redirectErrorStream(true).start();
        String out = new String(du.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(du.waitFor()).as(out).isZero();
        return Long.parseLong(out.split("\\s+")[0]);
    }

    private static JsonNode qemuImgInfo(Path overlay) throws Exception {
        Process p = new ProcessBuilder("qemu-img", "info", "-U", "--output=json", overlay.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        return dev.bolero.api.ApiJson.mapper().readTree(out);
    }
}
