package dev.bolero.agent;

import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.TestImages;
import dev.bolero.oci.testing.TestRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The shared set-up of an agent end-to-end test class, as a JUnit extension registered on a static field:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final AgentFixture env = AgentFixture.withImage("app/x:1", ImageSpec.cmd("sleep", "600"));
 * }</pre>
 *
 * <p>Test methods (and {@code @BeforeAll} methods) get the agent as a parameter of type {@link AgentHarness}.
 *
 * <p>Before the class's first test (and before its own {@code @BeforeAll} methods) it starts a real
 * {@link TestRegistry}, pushes the class's image to it if one is named, and starts one {@link AgentHarness} (no
 * network, no insecure registries, the given boot deadline) on a fresh temporary data directory. After the class's
 * last test (and after its {@code @AfterAll} methods) it closes the agent, which force-deletes every machine it still
 * has so that no VMM outlives the class, then the registry, then deletes the data directory; each step runs even
 * when an earlier one failed, and a failed set-up undoes what it had started. A host without
 * {@code docker-registry} skips the class (the registry's assumption).
 *
 * <p>One instance serves one test class: registering it where it would start twice (a {@code @Nested} class, a
 * second class) throws {@link IllegalStateException}, as do the accessors outside the class's tests.
 */
final class AgentFixture implements BeforeAllCallback, AfterAllCallback, ParameterResolver {
    private record Image(String name, ImageSpec spec) {
        Image {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(spec, "spec");
        }
    }

    private final Optional<Image> imageToPush;
    private final Duration bootDeadline;
    private boolean used;
    private TestRegistry registry;
    private String image;
    private AgentHarness node;
    private Path dataDir;

    private AgentFixture(Optional<Image> imageToPush, Duration bootDeadline) {
        this.imageToPush = imageToPush;
        this.bootDeadline = Objects.requireNonNull(bootDeadline, "bootDeadline");
    }

    /** A registry holding no image, and an agent. */
    static AgentFixture withoutImage() {
        return new AgentFixture(Optional.empty(), AgentHarness.BOOT_DEADLINE);
    }

    /**
     * A registry holding the image {@code name} (a repository and tag, e.g. {@code app/x:1}) made from {@code spec},
     * and an agent.
     */
    static AgentFixture withImage(String name, ImageSpec spec) {
        return new AgentFixture(Optional.of(new Image(name, spec)), AgentHarness.BOOT_DEADLINE);
    }

    /** The same, with an agent whose guests must start their workload within {@code deadline}. */
    AgentFixture withBootDeadline(Duration deadline) {
        return new AgentFixture(imageToPush, deadline);
    }

    /** The agent under test. */
    AgentHarness node() {
        return started(node);
    }

    /** The registry the image was pushed to. */
    TestRegistry registry() {
        return started(registry);
    }

    /** The pushed image's full reference ({@code 127.0.0.1:PORT/app/x:1}); throws if the fixture pushes none. */
    String image() {
        started(node);
        if (image == null) throw new IllegalStateException("this agent fixture pushes no image");
        return image;
    }

    /** The agent's data directory. */
    Path dataDir() {
        return started(dataDir);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        if (used) {
            throw new IllegalStateException("agent fixture for " + context.getDisplayName()
                    + ": already used by another class; register one per test class, not for @Nested classes");
        }
        used = true;
        try {
            dataDir = Files.createTempDirectory("bolero-agent");
            registry = TestRegistry.start();
            image = imageToPush.map(i -> TestImages.push(registry, i.name(), i.spec())).orElse(null);
            node = new AgentHarness(dataDir, Set.of(), Optional.empty(), bootDeadline);
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == AgentHarness.class;
    }

    @Override
    public AgentHarness resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return node();
    }

    private void close() {
        try {
            if (node != null) node.close();
        } finally {
            node = null;
            try {
                if (registry != null) registry.close();
            } finally {
                registry = null;
                if (dataDir != null) delete(dataDir);
                dataDir = null;
            }
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        } catch (IOException e) {
            throw new UncheckedIOException("delete agent data directory " + dir, e);
        }
    }

    private <T> T started(T value) {
        if (value == null) throw new IllegalStateException("the agent fixture runs only during its test class");
        return value;
    }
}
