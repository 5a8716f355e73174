package dev.bolero.client;

import dev.bolero.api.ApiError;
import dev.bolero.api.ApiJson;
import dev.bolero.api.ExecStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import tools.jackson.databind.JsonNode;

/**
 * One interactive exec over a WebSocket that speaks {@link ExecStream}: a node agent's
 * {@code ws://host:port/api/v1/machines/{id}/exec}, or a proxy of it; or an attach to a machine's workload
 * ({@code …/machines/{id}/attach}, {@link #attach}), whose input, resizes and end are the workload's. Sends are serialized and block until written;
 * output is handed to the {@link Output} on the socket's thread, in order.
 *
 * <p>Methods throw {@link ClientException} when the socket cannot be opened ({@code unavailable}, or the refused
 * upgrade's status) or fails.
 */
public final class ExecClient implements AutoCloseable {
    /** Where the command's output goes. */
    public interface Output {
        void stdout(byte[] data);

        void stderr(byte[] data);
    }

    private final String action;
    private final WebSocket socket;
    private final ReentrantLock sendLock = new ReentrantLock();
    private final CompletableFuture<Integer> exit;

    private ExecClient(String action, WebSocket socket, CompletableFuture<Integer> exit) {
        this.action = action;
        this.socket = socket;
        this.exit = exit;
    }

    /**
     * Opens the socket and sends the first message.
     *
     * @param uri {@code ws://…} or {@code wss://…}
     * @param authorization the {@code Authorization} header's value, if the endpoint needs one
     */
    public static ExecClient connect(URI uri, Optional<String> authorization, ExecStream.Start start, Output output) {
        var client = open("exec " + String.join(" ", start.exec().cmd()) + " at " + uri, uri, authorization, output);
        client.send(() -> client.socket.sendText(start.toJson(), true));
        return client;
    }

    /**
     * Opens an attach socket: the machine's workload's output from now on (after what it kept of its earlier
     * output), input to its stdin and resizes of its terminal when its init opened them; {@link #await} returns its
     * exit code. {@link #close} detaches: the workload runs on.
     *
     * @param uri {@code ws://…/machines/{id}/attach} or {@code wss://…}
     * @param authorization the {@code Authorization} header's value, if the endpoint needs one
     */
    public static ExecClient attach(URI uri, Optional<String> authorization, Output output) {
        return open("attach to " + uri, uri, authorization, output);
    }

    private static ExecClient open(String action, URI uri, Optional<String> authorization, Output output) {
        Objects.requireNonNull(output, "output");
        var exit = new CompletableFuture<Integer>();
        WebSocket.Builder builder = HttpClient.newHttpClient().newWebSocketBuilder()
                .connectTimeout(Duration.ofSeconds(10));
        authorization.ifPresent(a -> builder.header("Authorization", a));
        WebSocket socket;
        try {
            socket = builder.buildAsync(uri, new Receiver(action, output, exit)).get();
        } catch (ExecutionException e) {
            throw refused(action, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClientException(action + ": interrupted", 0, "unavailable", e);
        }
        return new ExecClient(action, socket, exit);
    }

    /** Writes {@code data} to the command's stdin. */
    public void input(byte[] data) {
        if (data.length > 0) send(() -> socket.sendBinary(ByteBuffer.wrap(data), true));
    }

    /** Ends the command's stdin (on a terminal: nothing; send {@code ^D} as input). */
    public void closeInput() {
        control(ExecStream.Control.ofCloseStdin());
    }

    /** Sets the terminal's size. */
    public void resize(int rows, int cols) {
        control(ExecStream.Control.ofResize(rows, cols));
    }

    /** Delivers a signal ({@code INT}, {@code SIGTERM}, or a number) to the command. */
    public void signal(String signal) {
        control(ExecStream.Control.ofSignal(signal));
    }

    /**
     * Waits for the end.
     *
     * @return the command's exit code (128+N when signal N ended it)
     * @throws ClientException with the API's code when the exec was refused or failed, {@code unavailable} when the
     *     socket closed without an end
     */
    public int await() throws InterruptedException {
        try {
            return exit.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof ClientException c ? c
                    : new ClientException(action + ": " + ClientException.cause(e.getCause()), 0, "unavailable",
                            e.getCause());
        }
    }

    /** Drops the connection; the agent kills the command if it still runs. */
    @Override
    public void close() {
        socket.abort();
    }

    private void control(ExecStream.Control control) {
        String json = ApiJson.mapper().writeValueAsString(control);
        send(() -> socket.sendText(json, true));
    }

    private void send(Supplier<CompletableFuture<WebSocket>> frame) {
        sendLock.lock();
        try {
            frame.get().join();
        } catch (CompletionException | IllegalStateException e) {
            Throwable cause = e instanceof CompletionException ? e.getCause() : e;
            throw new ClientException(action + ": the connection failed: " + cause, 0, "unavailable", cause);
        } finally {
            sendLock.unlock();
        }
    }

    private static ClientException refused(String action, Throwable cause) {
        if (cause instanceof WebSocketHandshakeException h) {
            int status = h.getResponse().statusCode();
            String code = statusCode(status);
            String message = "HTTP " + status;
            if (h.getResponse().body() instanceof String body && !body.isBlank()) {
                try {
                    ApiError error = ApiJson.mapper().readValue(body, ApiError.class);
                    code = error.error().code().wireName();
                    message = error.error().message();
                } catch (RuntimeException e) {
                    message = message + ": " + body.strip();
                }
            }
            return new ClientException(action + ": " + message, status, code, cause);
        }
        return new ClientException(action + ": cannot connect: " + cause, 0, "unavailable", cause);
    }

    /** The API code of a refused upgrade that carries no API error (the server refuses with an empty body). */
    private static String statusCode(int status) {
        return switch (status) {
            case 401 -> "unauthenticated";
            case 403 -> "permission_denied";
            case 404 -> "not_found";
            case 409 -> "conflict";
            case 503 -> "unavailable";
            default -> "http_" + status;
        };
    }

    /** Reassembles messages; output to {@link Output}, the end into {@code exit}. */
    private static final class Receiver implements WebSocket.Listener {
        private final String action;
        private final Output output;
        private final CompletableFuture<Integer> exit;
        private final StringBuilder text = new StringBuilder();
        private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

        Receiver(String action, Output output, CompletableFuture<Integer> exit) {
            this.action = action;
            this.output = output;
            this.exit = exit;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                end(text.toString());
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] chunk = new byte[data.remaining()];
            data.get(chunk);
            binary.writeBytes(chunk);
            if (last) {
                byte[] message = binary.toByteArray();
                binary.reset();
                if (message.length > 0) {
                    byte[] bytes = Arrays.copyOfRange(message, 1, message.length);
                    if (message[0] == ExecStream.STDERR) output.stderr(bytes);
                    else output.stdout(bytes);
                }
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            exit.completeExceptionally(new ClientException(
                    action + ": the connection closed (" + statusCode + " " + reason + ") before the command ended", 0,
                    "unavailable", null));
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            exit.completeExceptionally(
                    new ClientException(action + ": the connection failed: " + error, 0, "unavailable", error));
        }

        /** The last text message: the exit code, or the error. */
        private void end(String message) {
            JsonNode node = ApiJson.mapper().readTree(message);
            if (node.has("exit_code")) {
                exit.complete(node.path("exit_code").asInt());
                return;
            }
            ApiError error = ApiJson.mapper().treeToValue(node, ApiError.class);
            exit.completeExceptionally(new ClientException(error.error().message(), error.error().code().httpStatus(),
                    error.error().code().wireName(), null));
        }
    }
}
