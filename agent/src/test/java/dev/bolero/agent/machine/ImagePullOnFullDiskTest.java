package dev.bolero.agent.machine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.agent.logs.LogStore;
import dev.bolero.agent.store.MachineStore;
import dev.bolero.api.CreateMachineRequest;
import dev.bolero.api.Machine;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.oci.ImageStore;
import dev.bolero.oci.RegistryConfig;
import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.SmallDisk;
import dev.bolero.oci.testing.TestImages;
import dev.bolero.oci.testing.TestRegistry;
import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.KernelFlavour;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A machine whose image pull fills the node's disk: a real docker-registry, the node's image store on a real small
 * tmpfs, the real image hook; the VMM is the fake driver (none must start).
 */
class ImagePullOnFullDiskTest {
    @TempDir
    Path dir;

    @Test
    void aMachineWhosePullFillsTheDiskFailsSayingSoAndNoVmmStartsAndNothingIsHalfWritten() throws Exception {
        try (TestRegistry registry = TestRegistry.start(); SmallDisk disk = SmallDisk.mount(256 * 1024)) {
            String image = TestImages.push(registry, "bolero/full:1", ImageSpec.cmd("true"));
            ImageStore images = new ImageStore(disk.path(), RegistryConfig.defaults());
            FakeDriver driver = new FakeDriver();
            Path machines = dir.resolve("machines");
            for (String file : List.of("vmlinuz", "initrd")) Files.writeString(dir.resolve(file), file);
            NodeRuntime runtime = new NodeRuntime(images, driver,
                    () -> new BootAssets(dir.resolve("vmlinuz"), dir.resolve("initrd"), List.of(), KernelFlavour.values()[0]),
                    new LogStore(machines, java.time.Clock.systemUTC()), machines, Duration.ofSeconds(30), MachineNetwork.disabled(),
                    new NodeVolumes(dir.resolve("volumes")),
                TemplateStore.open(dir.resolve("templates"), TemplateLimits.DEFAULT));
            MachineStore store = MachineStore.open(dir.resolve("bolero.db"));
            MachineService service = new MachineService(store, runtime, new FakeClock(), new NodeCapacity(4, 4096, 1.0, 1.0),
                    List.of(new ImageHook(images, ImageHook.PullMeter.NONE)));
            try {
                String id = service.create(new CreateMachineRequest(null, "default", true,
                        MachineSpec.builder(image).guest(1, 256).build())).id();

                Machine failed = service.await(id, EnumSet.of(MachineState.FAILED), Duration.ofSeconds(60));

                assertThat(failed.state()).isEqualTo(MachineState.FAILED);
                assertThat(failed.error()).contains("pull " + image + ": the disk holding " + disk.path() + " is full (No space left on device)");
                assertThat(driver.vms()).as("VMMs started").isEmpty();
                try (Stream<Path> files = Files.walk(disk.path())) {
                    assertThat(files.filter(Files::isRegularFile).map(Path::toString).toList())
                            .as("what the failed pull left")
                            .noneMatch(f -> f.contains(".tmp"))
                            .noneMatch(f -> f.endsWith("rootfs.ext4"));
                }
            } finally {
                service.close();
                store.close();
            }
        }
    }
}
