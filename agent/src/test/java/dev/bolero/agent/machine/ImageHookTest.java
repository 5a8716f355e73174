package dev.bolero.agent.machine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.core.MachineSpec;
import dev.bolero.oci.ImageStore;
import dev.bolero.oci.RegistryConfig;
import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.TestImages;
import dev.bolero.oci.testing.TestRegistry;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image hook with a real image store and registry: which image a boot gets and which a resume gets. */
class ImageHookTest {
    @TempDir
    Path dir;

    @Test
    void a_boot_follows_the_tag_and_a_resume_takes_the_image_it_ran_from_the_store_even_with_the_registry_gone()
            throws Exception {
        ImageStore images = new ImageStore(dir, RegistryConfig.defaults());
        ImageHook hook = new ImageHook(images, ImageHook.PullMeter.NONE);
        String image;
        String ran;
        String moved;
        try (TestRegistry registry = TestRegistry.start()) {
            image = TestImages.push(registry, "bolero/app:1", ImageSpec.cmd("echo", "one"));
            ran = prepared(hook, image, Optional.empty(), false);
            TestImages.push(registry, "bolero/app:1", ImageSpec.cmd("echo", "two"));

            moved = prepared(hook, image, Optional.of(ran), false);
            assertThat(moved).as("a boot resolves the tag, which moved").isNotEqualTo(ran);
            assertThat(prepared(hook, image, Optional.of(ran), true)).as("a resume keeps the image it ran")
                    .isEqualTo(ran);
        }
        assertThat(prepared(hook, image, Optional.of(ran), true)).as("from the store: no registry needed")
                .isEqualTo(ran);
        assertThat(prepared(hook, image, Optional.of(moved), true)).isEqualTo(moved);
    }

    /** The digest of the image {@code hook} prepares for a machine of {@code image} that last ran {@code ran}. */
    private static String prepared(ImageHook hook, String image, Optional<String> ran, boolean resumes)
            throws Exception {
        MachineRecord m = MachineRecord.created("m1", "m1", "alpha", MachineSpec.builder(image).build(), Instant.EPOCH);
        if (ran.isPresent()) m = m.withImageDigest(ran.get(), Instant.EPOCH);
        Launch launch = new Launch(m, resumes);
        hook.prepare(launch);
        return launch.image().digest().toString();
    }
}
