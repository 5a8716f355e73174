package dev.bolero.runtime.internal.vmm;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.bolero.runtime.VmmException;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.UnixDomainSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.StringRequestContent;
import org.eclipse.jetty.io.Transport;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;

/**
 * A VMM's REST API on its Unix socket: sends {@link ApiRequest}s with a real HTTP client (Jetty) and turns every
 * non-2xx answer into a {@link VmmException} naming the VMM and the request ({@code firecracker PUT /boot-source:
 * …}), with the VMM's {@code fault_message} when it sent one.
 */
public final class VmmApi {

    /**
     * The JSON mapping of request records: record components in camelCase become the specs' snake_case; an empty
     * {@code Optional} component is left out.
     */
    public static final JsonMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .changeDefaultPropertyInclusion(incl -> incl.withValueInclusion(JsonInclude.Include.NON_ABSENT))
            .build();

    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private final String vmm;
    private final Path socket;
    private final String basePath;

    /**
     * @param vmm the VMM's name for messages ({@code firecracker})
     * @param socket the API's Unix socket
     * @param basePath prefix of every request's path on the wire ({@code ""}, or {@code /api/v1})
     */
    public VmmApi(String vmm, Path socket, String basePath) {
        this.vmm = Objects.requireNonNull(vmm, "vmm");
        this.socket = Objects.requireNonNull(socket, "socket");
        this.basePath = Objects.requireNonNull(basePath, "basePath");
    }

    public Path socket() {
        return socket;
    }

    /**
     * Sends one request and waits for its answer.
     *
     * @throws VmmException when the API cannot be reached or answers with a status outside 2xx
     */
    public void send(ApiRequest request) throws VmmException {
        String action = vmm + " " + request.describe();
        Request http = SharedClient.INSTANCE
                .newRequest("http://localhost" + basePath + request.path())
                .method(request.method())
                .transport(new Transport.TCPUnix(socket))
                .timeout(REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        request.body().ifPresent(body ->
                http.body(new StringRequestContent("application/json", JSON.writeValueAsString(body))));
        ContentResponse response;
        try {
            response = http.send();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmmException(action + ": interrupted", e);
        } catch (TimeoutException e) {
            throw new VmmException(action + ": no answer within " + REQUEST_TIMEOUT, e);
        } catch (ExecutionException e) {
            throw new VmmException(action + ": " + e.getCause().getMessage(), e.getCause());
        }
        if (response.getStatus() / 100 != 2) {
            throw new VmmException(action + ": " + fault(response));
        }
    }

    /**
     * Waits until the API socket accepts connections.
     *
     * @param alive whether the VMM still runs; a VMM that exits before its socket is up fails at once
     * @throws VmmException when the VMM exits first or the socket is not up by {@code deadline}
     */
    public void awaitListening(Duration deadline, BooleanSupplier alive) throws VmmException {
        Instant until = Instant.now().plus(deadline);
        while (true) {
            if (Files.exists(socket)) {
                try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                    return;
                } catch (IOException notYet) {
                    // bound but not listening yet
                }
            }
            if (!alive.getAsBoolean()) throw new VmmException(vmm + " exited before its API socket " + socket + " was up");
            if (Instant.now().isAfter(until)) {
                throw new VmmException(vmm + " API socket " + socket + " not up within " + deadline);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VmmException("wait for " + vmm + " API socket " + socket + ": interrupted", e);
            }
        }
    }

    private static String fault(ContentResponse response) {
        String text = response.getContentAsString();
        String status = "HTTP " + response.getStatus();
        if (text == null || text.isBlank()) return status;
        try {
            JsonNode node = JSON.readTree(text);
            if (node.hasNonNull("fault_message")) return node.get("fault_message").asString() + " (" + status + ")";
        } catch (RuntimeException notJson) {
            // Cloud Hypervisor answers errors in plain text
        }
        return text.strip() + " (" + status + ")";
    }

    /** One HTTP client for every VMM API in the JVM; its threads are daemons so it never holds the JVM up. */
    private static final class SharedClient {
        static final HttpClient INSTANCE = start();

        private static HttpClient start() {
            QueuedThreadPool threads = new QueuedThreadPool();
            threads.setName("vmm-api");
            threads.setDaemon(true);
            HttpClient client = new HttpClient();
            client.setExecutor(threads);
            client.setScheduler(new ScheduledExecutorScheduler("vmm-api-scheduler", true));
            try {
                client.start();
            } catch (Exception e) {
                throw new IllegalStateException("start the VMM API HTTP client", e);
            }
            return client;
        }
    }
}
