package dev.bolero.gateway;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.annotations.OnWebSocketMessage;
import org.eclipse.jetty.websocket.api.annotations.WebSocket;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * A stand-in for a machine: a real Jetty server on a free loopback port. {@code /} answers its id and echoes what
 * the gateway told it in {@code Seen-*} headers; {@code /echo} streams a request body back; {@code /stream} sends
 * chunks; {@code /hold} waits until {@link #release()}; {@code /ws} is a WebSocket echo.
 */
final class TestMachine implements AutoCloseable {
    final String id;
    private final Server server;
    private final ServerConnector connector;
    final AtomicInteger requests = new AtomicInteger();
    private final CountDownLatch held = new CountDownLatch(1);
    final CountDownLatch holding = new CountDownLatch(1);

    TestMachine(String id) throws Exception {
        this(id, "127.0.0.1", 0);
    }

    /** A machine listening on {@code host:port} (port 0: a free one), as a machine's private address and port. */
    TestMachine(String id, String host, int port) throws Exception {
        this.id = id;
        server = new Server();
        connector = new ServerConnector(server);
        connector.setHost(host);
        connector.setPort(port);
        server.addConnector(connector);
        var ws = WebSocketUpgradeHandler.from(server, container -> container.addMapping("/ws", (rq, rs, cb) -> new Echo()));
        ws.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                return answer(request, response, callback);
            }
        });
        server.setHandler(ws);
        server.start();
    }

    Backend backend() {
        return new Backend(id, "127.0.0.1", port(), true);
    }

    int port() {
        return connector.getLocalPort();
    }

    void release() {
        held.countDown();
    }

    private boolean answer(Request request, Response response, Callback callback) throws Exception {
        requests.incrementAndGet();
        var headers = response.getHeaders();
        headers.put("Machine", id);
        var seen = request.getHeaders();
        for (String name : new String[] {"Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Request-Id"}) {
            String value = seen.get(name);
            headers.put("Seen-" + name, value == null ? "-" : value);
        }
        switch (request.getHttpURI().getPath()) {
            case "/echo" -> Content.copy(request, response, callback);
            case "/stream" -> {
                for (int i = 0; i < 9; i++) {
                    Content.Sink.write(response, false, "chunk " + i + "\n", Callback.NOOP);
                }
                response.write(true, ByteBuffer.wrap("chunk 9\n".getBytes(StandardCharsets.UTF_8)), callback);
            }
            case "/hold" -> {
                holding.countDown();
                held.await(30, TimeUnit.SECONDS);
                Content.Sink.write(response, true, "held " + id, callback);
            }
            default -> {
                headers.put(HttpHeader.CONTENT_TYPE, "text/plain");
                Content.Sink.write(response, true, id, callback);
            }
        }
        return true;
    }

    @WebSocket
    public static final class Echo {
        @OnWebSocketMessage
        public void onText(Session session, String message) {
            session.sendText("echo " + message, org.eclipse.jetty.websocket.api.Callback.NOOP);
        }
    }

    @Override
    public void close() throws Exception {
        held.countDown();
        server.stop();
    }
}
