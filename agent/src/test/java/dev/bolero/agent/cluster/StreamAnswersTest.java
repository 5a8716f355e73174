package dev.bolero.agent.cluster;

import dev.bolero.core.Driver;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.api.wire.Capacity;
import dev.bolero.api.wire.JoinRequest;
import dev.bolero.api.wire.JoinResponse;
import dev.bolero.api.wire.StreamRequest;
import dev.bolero.server.Server;
import dev.bolero.server.ServerConfig;
import dev.bolero.server.WebSocketInbox;
import io.javalin.Javalin;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's side of interactive exec through the control plane, between a real server and a stand-in for the node
 * API's exec socket (an echo), so that the bridge is checked message for message without booting a machine.
 */
class StreamAnswersTest {
    private static final String ADMIN = "admin-token-streams-0123456789";
    private static final String JOIN = "join-token-streams-0123456789";
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;
    Server server;
    Javalin nodeApi;
    StreamAnswers answers;
    final List<String> execRequests = new ArrayList<>();

    @BeforeEach
    void start() {
        server = Server.start(ServerConfig.of("127.0.0.1", 0, dir).withTokens(Optional.of(ADMIN), Optional.of(JOIN)));
        // The node API's exec socket, as far as the bridge can tell: it echoes, and "exit" ends the command.
        nodeApi = Javalin.create(config -> config.routes.ws("/api/v1/machines/{id}/exec", ws -> {
            ws.onMessage(ctx -> {
                execRequests.add(ctx.pathParam("id"));
                if (ctx.message().equals("exit")) {
                    ctx.send("{\"exit_code\":0}");
                    ctx.closeSession(1000, "exited");
                } else {
                    ctx.send("echo " + ctx.message());
                }
            });
            ws.onBinaryMessage(ctx -> ctx.send(ctx.data()));
        })).start("127.0.0.1", 0);
    }

    @AfterEach
    void stop() {
        if (answers != null) answers.close();
        if (nodeApi != null) nodeApi.stop();
        if (server != null) server.close();
    }

    @Test
    void anInteractiveExecIsBridgedBetweenTheServerAndTheNodeApisSocketUntilTheCommandCloses() throws Exception {
        var protocol = new NodeProtocol(List.of(URI.create("http://127.0.0.1:" + server.port())));
        JoinResponse node = protocol.join(JOIN, new JoinRequest("n1", Map.of(), List.of(Driver.QEMU), new Capacity(4, 4096)));
        assertThat(api("POST", "/v1/namespaces", "{\"name\": \"alpha\"}")).isEqualTo(201);
        assertThat(api("POST", "/v1/namespaces/alpha/fleets", "{\"name\": \"web\"}")).isEqualTo(201);
        var created = HTTP.send(request("POST", "/v1/namespaces/alpha/fleets/web/machines",
                "{\"name\": \"m\", \"config\": {\"image\": \"busybox\"}, \"start\": false}"), HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String id = dev.bolero.api.ApiJson.mapper().readTree(created.body()).path("id").asString();
        answers = new StreamAnswers(node, URI.create("http://127.0.0.1:" + nodeApi.port()));

        var atClient = new WebSocketInbox();
        WebSocket client = HTTP.newWebSocketBuilder().header("Authorization", "Bearer " + ADMIN)
                .buildAsync(URI.create("ws://127.0.0.1:" + server.port() + "/v1/namespaces/alpha/machines/" + id
                        + "/exec"), atClient).get(30, TimeUnit.SECONDS);
        client.sendText("{\"cmd\": [\"sh\"], \"tty\": true}", true).get();
        client.sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3}), true).get();

        var streams = new ArrayList<StreamRequest>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            streams.addAll(protocol.assignments(node, 0, 0).streams());
            return !streams.isEmpty();
        });
        answers.answer(streams);

        assertThat(atClient.next()).isEqualTo("text:echo {\"cmd\": [\"sh\"], \"tty\": true}");
        assertThat(atClient.next()).isEqualTo("binary:\u0001\u0002\u0003");
        client.sendText("exit", true).get();
        assertThat(atClient.next()).isEqualTo("text:{\"exit_code\":0}");
        assertThat(atClient.next()).isEqualTo("close:1000:exited");
        assertThat(execRequests).containsOnly(id);
    }

    private int api(String method, String path, String body) throws Exception {
        return HTTP.send(request(method, path, body), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private HttpRequest request(String method, String path, String body) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .header("Authorization", "Bearer " + ADMIN).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(body)).build();
    }
}
