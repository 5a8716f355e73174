package dev.bolero.network;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs {@code ip} and {@code sysctl}, each behind a command prefix ({@code ip netns exec NAME} or none). */
final class HostCommands {
    private static final Logger log = LoggerFactory.getLogger(HostCommands.class);
    private static final long TIMEOUT_SECONDS = 30;

    private final List<String> prefix;

    HostCommands(List<String> prefix) {
        this.prefix = List.copyOf(prefix);
    }

    /** Commands run in network namespace {@code netns} ({@code ip netns exec}), or in this process's when empty. */
    static HostCommands in(Optional<String> netns) {
        return new HostCommands(netns.map(n -> List.of("ip", "netns", "exec", n)).orElse(List.of()));
    }

    /**
     * Runs {@code argv} with {@code stdin} (may be null) and returns its standard output.
     *
     * @throws NetworkException of kind HOST if it cannot start, times out or exits non-zero; the message starts with
     *     {@code action} and carries the command's error output
     */
    String run(String action, String stdin, String... argv) throws NetworkException {
        var command = new ArrayList<>(prefix);
        command.addAll(List.of(argv));
        long start = System.nanoTime();
        Process process;
        try {
            process = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new NetworkException(NetworkException.Kind.HOST, action + ": cannot run " + argv[0] + ": " + e.getMessage(), e);
        }
        var stderr = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()), Thread::startVirtualThread);
        try {
            try (var in = process.getOutputStream()) {
                if (stdin != null) in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            String stdout = read(process.getInputStream());
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new NetworkException(NetworkException.Kind.HOST,
                        action + ": " + String.join(" ", argv) + " did not finish in " + TIMEOUT_SECONDS + " s");
            }
            if (process.exitValue() != 0) {
                throw new NetworkException(NetworkException.Kind.HOST, action + ": " + String.join(" ", argv)
                        + " exited with " + process.exitValue() + ": " + stderr.join().strip());
            }
            if (log.isDebugEnabled()) {
                log.debug("ran action=\"{}\" command={} ms={}{}", action, command,
                        (System.nanoTime() - start) / 1_000_000, stdin == null ? "" : "\n" + stdin);
            }
            return stdout;
        } catch (IOException | UncheckedIOException e) {
            process.destroyForcibly();
            throw new NetworkException(NetworkException.Kind.HOST, action + ": " + argv[0] + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new NetworkException(NetworkException.Kind.HOST, action + ": interrupted", e);
        }
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
