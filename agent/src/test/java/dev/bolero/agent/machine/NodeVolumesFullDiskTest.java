package dev.bolero.agent.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.ApiException;
import dev.bolero.api.wire.NodeVolume;
import dev.bolero.oci.testing.SmallDisk;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** A volume made on a full disk (a real small tmpfs) with the host's mkfs.ext4. */
class NodeVolumesFullDiskTest {
    @Test
    void aVolumeThatDoesNotFitLeavesNoPartialFileAndItsMachineIsToldTheDiskIsFull() throws Exception {
        try (SmallDisk disk = SmallDisk.mount(512 * 1024)) { // mkfs.ext4 writes several MiB of metadata for 1 GiB
            NodeVolumes volumes = new NodeVolumes(disk.path().resolve("volumes"));

            volumes.apply(List.of(new NodeVolume("vol_full", "alpha", "data", 1, null, List.of())));

            try (Stream<Path> files = Files.list(disk.path().resolve("volumes"))) {
                assertThat(files).as("files left by the failed volume").isEmpty();
            }
            assertThatThrownBy(() -> volumes.drive("alpha", "data"))
                    .isInstanceOf(ApiException.class)
                    .hasMessageStartingWith("attach volume alpha/data: its file could not be made on this node: mkfs.ext4 ")
                    .hasMessageContaining("No space left on device");
        }
    }
}
