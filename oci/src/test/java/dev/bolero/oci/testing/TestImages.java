package dev.bolero.oci.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * Builds busybox images with {@code scripts/build-image.sh} (umoci, skopeo, busybox-static) and pushes them to a
 * {@link TestRegistry}. Tests on a host without those tools are skipped (a JUnit assumption).
 */
public final class TestImages {
    private TestImages() {}

    /**
     * Builds an image as {@code spec} says and pushes it as {@code REGISTRY/repoTag}.
     *
     * @param repoTag {@code repository:tag}, e.g. {@code app:1}
     * @return the pushed reference, {@code 127.0.0.1:PORT/repository:tag}
     * @throws UncheckedIOException if the build or push fails (the script's output is in the message)
     */
    public static String push(TestRegistry registry, String repoTag, ImageSpec spec) {
        for (String tool : List.of("/usr/bin/umoci", "/usr/bin/skopeo", "/bin/busybox")) {
            Assumptions.assumeTrue(Files.isExecutable(Path.of(tool)), tool + " is not installed (apt-get install umoci skopeo busybox-static)");
        }
        String reference = registry.host() + "/" + repoTag;
        List<String> command = new ArrayList<>(List.of(repositoryRoot().resolve("scripts/build-image.sh").toString(), reference));
        spec.entrypoint().forEach(a -> command.addAll(List.of("--entrypoint", a)));
        spec.cmd().forEach(a -> command.addAll(List.of("--cmd", a)));
        spec.env().forEach(e -> command.addAll(List.of("--env", e)));
        if (!spec.workdir().isEmpty()) {
            command.addAll(List.of("--workdir", spec.workdir()));
        }
        if (!spec.user().isEmpty()) {
            command.addAll(List.of("--user", spec.user()));
        }
        for (Map.Entry<String, String> file : spec.files().entrySet()) {
            command.addAll(List.of("--file", file.getKey() + "=" + file.getValue()));
        }
        try {
            TestRegistry.run(command, registry.credentials().map(c -> Map.of("BUILD_IMAGE_CREDS", c)).orElse(Map.of()));
        } catch (IOException e) {
            throw new UncheckedIOException("push " + reference, e);
        }
        return reference;
    }

    /** The repository root: system property {@code bolero.home}, else the nearest ancestor of the cwd with {@code mvnw}. */
    static Path repositoryRoot() {
        String home = System.getProperty("bolero.home");
        if (home != null && Files.isRegularFile(Path.of(home, "scripts", "build-image.sh"))) {
            return Path.of(home);
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("mvnw"))) {
                return dir;
            }
        }
        throw new IllegalStateException("cannot find the repository root (no bolero.home property, no mvnw above " + Path.of("").toAbsolutePath() + ")");
    }
}
