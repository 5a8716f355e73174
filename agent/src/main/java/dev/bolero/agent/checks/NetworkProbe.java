package dev.bolero.agent.checks;

import dev.bolero.core.CheckStatus;
import dev.bolero.core.MachineSpec;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * Runs {@code http} and {@code tcp} health checks from the node against a machine's address on its namespace's
 * network. Thread-safe; one per node. An HTTP check passes on a 2xx or 3xx status (redirects are not followed); a TCP
 * check passes when a connection opens; either fails when its timeout passes first.
 */
public final class NetworkProbe implements AutoCloseable {
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).build();

    /**
     * Runs {@code check} against {@code host} (an IP address literal).
     *
     * @throws IllegalArgumentException when {@code check} is an {@code exec} check
     * @throws InterruptedException when the calling thread is interrupted (the machine's checks are stopping)
     */
    public CheckResult run(MachineSpec.Check check, String host) throws InterruptedException {
        return switch (check.type()) {
            case HTTP -> http(check, host);
            case TCP -> tcp(check, host);
            case EXEC -> throw new IllegalArgumentException("an exec check runs in the guest, not from the node");
        };
    }

    private CheckResult http(MachineSpec.Check check, String host) throws InterruptedException {
        String hostPart = host.contains(":") ? "[" + host + "]" : host;
        HttpRequest request;
        try {
            var builder = HttpRequest.newBuilder(URI.create("http://" + hostPart + ":" + check.port() + check.path()))
                    .timeout(check.timeout()).method(check.method(), HttpRequest.BodyPublishers.noBody());
            check.headers().forEach(builder::header);
            request = builder.build();
        } catch (IllegalArgumentException e) { // a header the JDK's client will not send (Host, Connection…)
            return CheckResult.fail("cannot send the request: " + e.getMessage());
        }
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            String body;
            try (InputStream in = response.body()) {
                body = new String(in.readNBytes(CheckStatus.MAX_OUTPUT), StandardCharsets.UTF_8).strip();
            }
            int status = response.statusCode();
            String output = "HTTP " + status + (body.isEmpty() ? "" : ": " + body);
            return status >= 200 && status < 400 ? CheckResult.pass(output) : CheckResult.fail(output);
        } catch (HttpTimeoutException e) {
            return CheckResult.fail("no answer within " + check.timeout().toSeconds() + " s");
        } catch (IOException e) {
            return CheckResult.fail("request failed: " + describe(e));
        }
    }

    private static CheckResult tcp(MachineSpec.Check check, String host) {
        try (var socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, check.port()), Math.toIntExact(check.timeout().toMillis()));
            return CheckResult.pass("connected to port " + check.port());
        } catch (SocketTimeoutException e) {
            return CheckResult.fail("no connection within " + check.timeout().toSeconds() + " s");
        } catch (IOException e) {
            return CheckResult.fail("connect failed: " + describe(e));
        }
    }

    private static String describe(IOException e) {
        Throwable cause = e;
        while (cause.getCause() != null && cause.getMessage() == null) cause = cause.getCause();
        return cause.getMessage() == null ? "connection error" : cause.getMessage();
    }

    @Override
    public void close() {
        http.close();
    }
}
