package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.oci.testing.ImageSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

/**
 * {@code guest.rootfs_mb}: a machine asking for a larger root file system than the image's drive gets it (a larger
 * copy-on-write view, grown online by bolero-init) while the shared drive keeps its size; asking for less fails the
 * machine naming both sizes. Real registry, real QEMU.
 */
class RootfsSizeTest {
    private static final long MIB = 1024 * 1024;

    @RegisterExtension
    static final AgentFixture env =
            AgentFixture.withImage("rootfs/df:1", ImageSpec.cmd("sh", "-c", "df -k / | tail -n 1"));

    @Test
    void a_machine_asking_for_more_sees_a_grown_root_while_the_shared_drive_keeps_its_size(AgentHarness node)
            throws Exception {
        String id = node.create("{\"start\": true, \"config\": {\"image\": \"" + env.image()
                + "\", \"guest\": {\"rootfs_mb\": 1024}}}");
        JsonNode m = node.waitFor(id, "stopped", 240);
        assertThat(m.path("exit_code").asInt()).as(node.console(id)).isZero();
        assertThat(m.path("config").path("guest").path("rootfs_mb").asInt()).isEqualTo(1024);

        String[] df = node.logs(id).strip().split("\\s+"); // Filesystem 1K-blocks Used Available Use% Mounted-on
        long sizeKib = Long.parseLong(df[1]);
        assertThat(sizeKib * 1024).as("df / in the guest: %s", node.logs(id)).isBetween(900 * MIB, 1024 * MIB);
        assertThat(node.console(id)).contains("grew /dev/vda to ");

        String digest = m.path("image_digest").asString();
        Path drive = env.dataDir().resolve("images").resolve(digest.substring("sha256:".length()))
                .resolve("rootfs.ext4");
        JsonNode stored = node.get("/api/v1/images/" + digest).json();
        assertThat(Files.size(drive)).isEqualTo(stored.path("root_drive_bytes").asLong()).isLessThan(600 * MIB);
    }

    @Test
    void a_root_smaller_than_the_image_drive_fails_the_machine_naming_both_sizes(AgentHarness node) throws Exception {
        String id = node.create("{\"start\": true, \"config\": {\"image\": \"" + env.image()
                + "\", \"guest\": {\"rootfs_mb\": 64}}}");
        JsonNode m = node.waitFor(id, "failed", 240);
        long driveMib = (node.get("/api/v1/images/" + m.path("image_digest").asString()).json().path("root_drive_bytes").asLong()
                + MIB - 1) / MIB;
        assertThat(m.path("error").asString()).isEqualTo("start machine " + id + ": guest.rootfs_mb 64 is smaller than the root drive of "
                + env.image() + " (" + driveMib + " MiB)");
    }

    @Test
    void a_rootfs_size_out_of_range_is_refused(AgentHarness node) {
        AgentHarness.Response r = node.post("/api/v1/machines", "{\"config\": {\"image\": \"" + env.image()
                + "\", \"guest\": {\"rootfs_mb\": 8}}}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.errorMessage()).isEqualTo("config.guest.rootfs_mb must be between 64 and 1048576, got 8");
    }
}
