package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.wire.FleetSpec;
import dev.bolero.api.wire.HostnameSpec;
import dev.bolero.client.BoleroClient;
import dev.bolero.core.MachineSpec;
import java.io.IOException;
import java.net.URI;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bolero up --gateway-listen} in its own JVM (an agent without machine networking): the gateway it starts follows
 * its server, so a fleet created there, and a custom host name attached to it, are routes at once.
 */
class UpCommandTest {
    private static final Pattern READY = Pattern.compile("bolero up: server (http://\\S+) .*gateway http on port (\\d+)");
    private static final Pattern ADMIN = Pattern.compile("admin token .*: (\\S+)");

    @TempDir
    Path dir;

    @Test
    void upWithAGatewayRoutesItsFleetsByHostName() throws Exception {
        List<String> command = new ArrayList<>(CliProcess.javaCommand());
        command.addAll(List.of("up", "--data-dir", dir.resolve("data").toString(), "--listen", "127.0.0.1:0",
                "--agent-listen", "127.0.0.1:0", "--no-network", "--gateway-listen", "127.0.0.1:0"));
        Path out = dir.resolve("up.out");
        Process up = CliProcess.builder(dir, command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            Matcher ready = awaitReady(up, out, READY);
            var admin = new BoleroClient(URI.create(ready.group(1)), adminToken(out));
            int gatewayPort = Integer.parseInt(ready.group(2));
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();

            admin.createFleet("default", new FleetSpec("web", null, null, Map.of(),
                    MachineSpec.builder("registry.test/web:1").httpService(MachineSpec.HttpService.on(8080)).overlay()));
            admin.attachHostname("default", "web", new HostnameSpec("www.example.org", null, null));
            for (String host : List.of("web.default.localhost", "www.example.org")) {
                String answer = "";
                while (!answer.startsWith("HTTP/1.1 503")) {
                    assertThat(System.nanoTime()).as("%s routed (no machine: 503), got %s", host, answer)
                            .isLessThan(deadline);
                    answer = get(gatewayPort, host);
                }
            }
            assertThat(get(gatewayPort, "nope.default.localhost")).startsWith("HTTP/1.1 404");
        } finally {
            up.destroy();
            if (!up.waitFor(30, TimeUnit.SECONDS)) up.destroyForcibly().waitFor();
        }
    }

    /**
     * Waits, at most 90 s, until what {@code up} printed to {@code out} matches {@code ready}; fails if it ends first.
     *
     * @return the match
     */
    static Matcher awaitReady(Process up, Path out, Pattern ready) throws Exception {
        Matcher matcher = ready.matcher("");
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!matcher.reset(Files.readString(out)).find()) {
            assertThat(up.isAlive()).as("bolero up runs: %s", Files.readString(out)).isTrue();
            assertThat(System.nanoTime()).as("bolero up ready within 90 s: %s", Files.readString(out))
                    .isLessThan(deadline);
            Thread.sleep(200);
        }
        return matcher;
    }

    /** The admin token {@code up} printed to {@code out}. */
    static String adminToken(Path out) throws IOException {
        Matcher token = ADMIN.matcher(Files.readString(out));
        assertThat(token.find()).as("an admin token in %s", Files.readString(out)).isTrue();
        return token.group(1);
    }

    /** The gateway's whole answer to {@code GET /} for {@code host} (the JDK's client may not set Host). */
    static String get(int port, String host) throws Exception {
        return get(port, host, Duration.ofSeconds(20));
    }

    /** {@link #get(int, String)}, waiting up to {@code patience} for the answer (a held request's wake). */
    static String get(int port, String host, Duration patience) throws Exception {
        try (var socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout((int) patience.toMillis());
            socket.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
