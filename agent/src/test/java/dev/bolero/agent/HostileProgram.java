package dev.bolero.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * {@code hostile-guest.c} (a test resource), built static with musl-gcc for a test image, where files are text: the
 * image carries it as base64 and the workload decodes it with busybox's {@code base64 -d}.
 */
final class HostileProgram {
    private static final Path MUSL_GCC = Path.of("/usr/bin/musl-gcc");

    private HostileProgram() {}

    /**
     * The program, base64 (MIME lines); "" when musl-gcc is not installed.
     *
     * @throws UncheckedIOException when the build fails
     */
    static String base64() {
        if (!Files.isExecutable(MUSL_GCC)) return "";
        Path dir = null;
        try {
            Path source = Path.of(HostileProgram.class.getResource("/hostile-guest.c").toURI());
            dir = Files.createTempDirectory("hostile-guest");
            Path binary = dir.resolve("hostile-guest");
            Process cc = new ProcessBuilder(MUSL_GCC.toString(), "-static", "-Os", "-s", "-o", binary.toString(),
                    source.toString()).redirectErrorStream(true).start();
            String output = new String(cc.getInputStream().readAllBytes());
            if (!cc.waitFor(120, TimeUnit.SECONDS) || cc.exitValue() != 0) {
                throw new IOException("musl-gcc " + source + " failed: " + output);
            }
            return Base64.getMimeEncoder().encodeToString(Files.readAllBytes(binary));
        } catch (IOException e) {
            throw new UncheckedIOException("build the hostile guest program", e);
        } catch (URISyntaxException | InterruptedException e) {
            throw new IllegalStateException("build the hostile guest program", e);
        } finally {
            if (dir != null) {
                try (var files = Files.list(dir)) {
                    for (Path f : files.toList()) Files.delete(f);
                    Files.delete(dir);
                } catch (IOException e) {
                    // a temporary file left behind is not worth failing the test class for
                }
            }
        }
    }
}
