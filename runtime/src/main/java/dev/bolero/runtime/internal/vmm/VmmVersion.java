package dev.bolero.runtime.internal.vmm;

import dev.bolero.runtime.VmmException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The version a VMM binary reports ({@code BINARY --version}, its first line), asked once per binary. */
public final class VmmVersion {
    private static final Map<Path, String> VERSIONS = new ConcurrentHashMap<>();

    private VmmVersion() {}

    /** @throws VmmException naming the binary when it cannot tell its version */
    public static String of(Path binary) throws VmmException {
        String cached = VERSIONS.get(binary);
        if (cached != null) return cached;
        try {
            Process p = new ProcessBuilder(binary.toString(), "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().findFirst()
                    .orElse("");
            if (p.waitFor() != 0 || out.isBlank()) throw new VmmException(binary + " --version failed: " + out);
            VERSIONS.put(binary, out);
            return out;
        } catch (IOException e) {
            throw new VmmException(binary + " --version: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmmException(binary + " --version: interrupted", e);
        }
    }
}
