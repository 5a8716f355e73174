package dev.bolero.server.http;

import dev.bolero.api.ApiException;
import dev.bolero.server.cluster.Streams;
import io.javalin.websocket.WsContext;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Interactive exec through the control plane: the client's WebSocket ({@code GET …/machines/{id}/exec}) paired with
 * the WebSocket the machine's agent opens at {@code /v1/nodes/{node}/streams/{stream}} in answer to an {@code exec_ws}
 * stream request. Messages are relayed as they are, text as text and binary as binary, without being interpreted;
 * what the client sends before the agent is there is held and sent first. A close on either side closes the other
 * with the same code and reason; a node that does not answer within the pickup bound closes the client's socket with
 * {@code 1011} and a reason starting {@code unavailable:}.
 *
 * <p>Flow control: at most {@value #UNSENT_MAX} bytes relayed toward one socket wait to be written (or, toward the
 * agent, for it to answer); past that the thread delivering the other side's messages waits, so Jetty stops reading
 * that side and TCP holds back the sender (the agent's output credit then holds back the command). Each direction
 * waits on its own: a client flooded with output still gets its input, a ^C, through.
 */
final class ExecSockets {
    private static final Logger log = LoggerFactory.getLogger(ExecSockets.class);
    /** Keeps a quiet shell's sockets from idling out. */
    private static final long PING_S = 15;
    /** Bytes relayed toward one socket and not yet written, past which the relaying side stops reading. */
    static final int UNSENT_MAX = 1 << 20;

    private final Streams streams;
    private final Map<String, Link> byStream = new ConcurrentHashMap<>();
    private final Map<String, Link> bySession = new ConcurrentHashMap<>();

    ExecSockets(Streams streams) {
        this.streams = streams;
    }

    /** Bytes relayed toward one socket and not yet written; the relaying thread waits while there are too many. */
    static final class Unsent {
        private long bytes;
        private boolean closed;

        synchronized void add(long n) {
            bytes += n;
        }

        synchronized void written(long n) {
            bytes -= n;
            notifyAll();
        }

        /** Wakes the waiting thread for good: the link is closed. */
        synchronized void close() {
            closed = true;
            notifyAll();
        }

        /** Waits until at most {@link #UNSENT_MAX} bytes are unsent, or the link closed. */
        synchronized void awaitRoom() throws InterruptedException {
            while (bytes > UNSENT_MAX && !closed) wait();
        }
    }

    /** A client's socket and, once it has answered, the agent's. */
    private final class Link {
        final WsContext client;
        Streams.Pending pending;
        WsContext agent;
        boolean closed;
        final List<Object> early = new ArrayList<>();
        final Unsent toAgent = new Unsent();
        final Unsent toClient = new Unsent();

        Link(WsContext client) {
            this.client = client;
        }

        void fromClient(Object message) throws InterruptedException {
            synchronized (this) {
                if (closed) return;
                toAgent.add(size(message));
                if (agent == null) {
                    early.add(message);
                } else {
                    send(agent, message, toAgent);
                }
            }
            toAgent.awaitRoom();
        }

        void fromAgent(Object message) throws InterruptedException {
            synchronized (this) {
                if (closed) return;
                toClient.add(size(message));
                send(client, message, toClient);
            }
            toClient.awaitRoom();
        }

        synchronized void attach(WsContext agentSocket) {
            if (closed) {
                agentSocket.closeSession(1001, "the client went away");
                return;
            }
            agent = agentSocket;
            bySession.put(agentSocket.sessionId(), this);
            for (Object m : early) send(agent, m, toAgent);
            early.clear();
        }

        /** Closes both sockets (the one that closed already is closed quietly) and ends the stream. */
        void close(int code, String reason) {
            synchronized (this) {
                if (closed) return;
                closed = true;
            }
            toAgent.close();
            toClient.close();
            int sendable = sendable(code);
            closeQuietly(client, sendable, reason);
            if (agent != null) {
                closeQuietly(agent, sendable, reason);
                bySession.remove(agent.sessionId());
            }
            bySession.remove(client.sessionId());
            if (pending != null) {
                byStream.remove(pending.id());
                pending.close();
            }
        }
    }

    /**
     * A client connected: asks the machine's node for a socket and closes the client's if none comes in time. With
     * {@code attach}, the node's socket is attached to the machine's workload ({@code GET …/machines/{id}/attach}),
     * else it runs the command the client's first message asks for.
     */
    void clientConnected(WsContext client, String namespace, String machineId, boolean attach) {
        client.enableAutomaticPings(PING_S, TimeUnit.SECONDS);
        var link = new Link(client);
        bySession.put(client.sessionId(), link);
        Streams.Pending pending;
        try {
            pending = streams.open(namespace, machineId, "exec_ws", attach ? Map.of("attach", "true") : Map.of(), null);
        } catch (ApiException e) {
            link.close(1011, e.code().wireName() + ": " + e.getMessage());
            return;
        }
        synchronized (link) {
            link.pending = pending;
            byStream.put(pending.id(), link);
        }
        Thread.ofVirtual().name("exec-ws-" + pending.id()).start(() -> {
            try {
                pending.awaitClaim();
            } catch (ApiException e) {
                link.close(1011, e.code().wireName() + ": " + e.getMessage());
            } catch (InterruptedException e) {
                link.close(1001, "server shutting down");
            }
        });
    }

    /** An agent's socket answering stream {@code streamId}; closed at once when no client waits for it. */
    void agentConnected(WsContext agent, String nodeId, String streamId) {
        agent.enableAutomaticPings(PING_S, TimeUnit.SECONDS);
        try {
            streams.claim(nodeId, streamId);
        } catch (ApiException e) {
            closeQuietly(agent, 1011, e.code().wireName() + ": " + e.getMessage());
            return;
        }
        Link link = byStream.get(streamId);
        if (link == null) {
            closeQuietly(agent, 1001, "the client went away");
            return;
        }
        link.attach(agent);
    }

    /**
     * A message from either side, a {@link String} or a {@link ByteBuffer} the caller no longer uses. Returns once
     * the other side has room for more (see the flow control above).
     */
    void message(WsContext from, Object message) throws InterruptedException {
        Link link = bySession.get(from.sessionId());
        if (link == null) return;
        if (link.client.sessionId().equals(from.sessionId())) {
            link.fromClient(message);
        } else {
            link.fromAgent(message);
        }
    }

    /** Either side closed or failed. */
    void closed(WsContext from, int code, String reason) {
        Link link = bySession.get(from.sessionId());
        if (link != null) link.close(code, reason == null ? "" : reason);
    }

    /** Sends without waiting; {@code unsent} learns when the message is written (or failed: the socket closes). */
    private static void send(WsContext to, Object message, Unsent unsent) {
        long size = size(message);
        Callback written = Callback.from(() -> unsent.written(size), failure -> {
            unsent.written(size);
            log.debug("exec socket {}: send failed: {}", to.sessionId(), failure.toString());
        });
        try {
            switch (message) {
                case String text -> to.session.sendText(text, written);
                case ByteBuffer bytes -> to.session.sendBinary(bytes.duplicate(), written);
                default -> throw new IllegalArgumentException("message " + message.getClass());
            }
        } catch (RuntimeException e) {
            written.fail(e);
        }
    }

    /** A message's size for flow control: its bytes (a text's UTF-16 length is close enough and cheap). */
    private static long size(Object message) {
        return switch (message) {
            case String text -> text.length();
            case ByteBuffer bytes -> bytes.remaining();
            default -> throw new IllegalArgumentException("message " + message.getClass());
        };
    }

    private static void closeQuietly(WsContext socket, int code, String reason) {
        try {
            socket.closeSession(code, reason(reason));
        } catch (RuntimeException e) {
            log.debug("exec socket {}: close: {}", socket.sessionId(), e.toString());
        }
    }

    /** A close code one may send: the reserved ones (no code, abnormal, TLS) become a normal close. */
    static int sendable(int code) {
        return code == 1005 || code == 1006 || code == 1015 || code < 1000 || code > 4999 ? 1000 : code;
    }

    /** A close reason fits in 123 bytes of UTF-8. */
    static String reason(String reason) {
        byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= 123) return reason;
        String cut = new String(bytes, 0, 120, StandardCharsets.UTF_8);
        while (cut.getBytes(StandardCharsets.UTF_8).length > 120) cut = cut.substring(0, cut.length() - 1);
        return cut + "...";
    }
}
