package dev.bolero.network.testing;

import static dev.bolero.network.testing.HostCommands.at;
import static dev.bolero.network.testing.HostCommands.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Web servers ({@code busybox httpd}) of a network test, all serving one temporary directory: {@code /} answers
 * {@value #INDEX}, {@code /cgi-bin/peer} answers the client's address as the server saw it. {@link #close()} kills the
 * servers and removes the directory.
 */
public final class PeerWeb implements AutoCloseable {
    /** What {@code /} answers. */
    public static final String INDEX = "uplink here";

    private final Path dir;
    private final List<Process> processes = new ArrayList<>();

    private PeerWeb(Path dir) {
        this.dir = dir;
    }

    /** Writes the pages into a new temporary directory named after {@code id}. */
    public static PeerWeb create(String id) throws IOException {
        var web = new PeerWeb(Files.createTempDirectory("bolero-net-" + id));
        try {
            var cgi = Files.createDirectories(web.dir.resolve("www/cgi-bin"));
            Files.writeString(cgi.getParent().resolve("index.html"), INDEX + "\n");
            var peer = cgi.resolve("peer");
            Files.writeString(peer, "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' \"$REMOTE_ADDR\"\n");
            Files.setPosixFilePermissions(peer, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException | RuntimeException e) {
            web.close();
            throw e;
        }
        return web;
    }

    /**
     * Starts a server at {@code where} (see {@link HostCommands#inNetns}) on {@code address:port} and returns once it
     * listens; throws {@link IllegalStateException} if it exits or does not listen within a few seconds.
     */
    public void serve(List<String> where, String address, int port) throws Exception {
        var p = new ProcessBuilder(at(where, "busybox", "httpd", "-f", "-p", address + ":" + port,
                "-h", dir.resolve("www").toString()))
                .redirectErrorStream(true).redirectOutput(dir.resolve("httpd-" + processes.size() + ".log").toFile())
                .start();
        processes.add(p);
        for (int i = 0; i < 100; i++) {
            if (run(at(where, "ss", "-Hltn", "sport", "=", ":" + port)).out().contains(":" + port)) return;
            if (!p.isAlive()) throw new IllegalStateException("httpd on " + address + ":" + port + " exited with " + p.exitValue());
            Thread.sleep(50);
        }
        throw new IllegalStateException("httpd not listening on " + address + ":" + port);
    }

    @Override
    public void close() {
        for (var p : processes) {
            p.destroyForcibly();
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("cleanup: " + dir + ": " + e);
        }
    }
}
