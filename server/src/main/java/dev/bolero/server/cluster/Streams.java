package dev.bolero.server.cluster;

import dev.bolero.api.ApiException;
import dev.bolero.api.wire.StreamRequest;
import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.NodeRow;
import dev.bolero.server.store.ServerStore;
import java.io.InputStream;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Public requests that need bytes from a node (logs, events, exec), which the server may not connect to
 * ({@code docs/cluster-protocol.md} §6). {@link #open} stores a stream request for the machine's node and wakes the
 * node's long poll; the agent answers it with a request to this replica, which {@link #answer} hands to the waiting
 * public request; the public request relays the answer's bytes and {@linkplain Pending#close closes}, which ends the
 * agent's request. A stream not answered within the pickup bound fails with {@code 503 unavailable}.
 */
public final class Streams {
    private static final Logger log = LoggerFactory.getLogger(Streams.class);
    /** How often a relayed stream checks that its node is not down. */
    private static final Duration WATCH = Duration.ofSeconds(1);

    private final ServerStore store;
    private final Clock clock;
    private final Changes changes;
    private final Duration pickup;
    private final Map<String, Pending> waiting = new ConcurrentHashMap<>();
    private volatile String replicaId;
    private volatile URI self;

    Streams(ServerStore store, Clock clock, Changes changes, Duration pickup) {
        this.store = store;
        this.clock = clock;
        this.changes = changes;
        this.pickup = pickup;
    }

    /**
     * What the agent sent: its node API's status, content type and body, the body read as it arrives.
     *
     * @param abort breaks the agent's connection, which fails a read of {@code body} blocked on it
     */
    public record Answer(int status, String contentType, InputStream body, Runnable abort) {
        public Answer {
            Objects.requireNonNull(contentType, "contentType");
            Objects.requireNonNull(body, "body");
            Objects.requireNonNull(abort, "abort");
        }
    }

    /** Names this replica and the base URL its agents' answers must go to; called once it serves. */
    public void advertise(String replicaId, URI url) {
        this.replicaId = Objects.requireNonNull(replicaId, "replicaId");
        this.self = Objects.requireNonNull(url, "url");
    }

    /** How long a stream request waits for its agent. */
    public Duration pickup() {
        return pickup;
    }

    /**
     * Asks the node of machine {@code machineId} in {@code namespace} for a stream.
     *
     * @throws ApiException {@code not_found} when the namespace has no such machine, {@code failed_precondition}
     *     when it is on no node, {@code unavailable} when its node is down
     */
    public Pending open(String namespace, String machineId, String kind, Map<String, String> params, String body) {
        String action = kind + " of machine " + machineId;
        return open(machineId, kind, params, body, action, tx -> {
            MachineRow machine = ControlPlane.live(tx, namespace, machineId, action);
            if (machine.nodeId() == null) {
                throw ApiException.failedPrecondition(action + ": it is on no node"
                        + (machine.error() == null ? "" : " (" + machine.error() + ")"));
            }
            return machine.nodeId();
        });
    }

    /**
     * Asks node {@code nodeId} for pass {@code pass} of move {@code move} of volume {@code volumeId}, which lives
     * there, or for the blocks of snapshot {@code volumeId} taken there, {@code move} then naming the copy and
     * {@code pass} 1 (kind {@code volume}).
     *
     * @throws ApiException {@code unavailable} when the node is down
     */
    Pending openVolume(String nodeId, String volumeId, String move, int pass) {
        return open(volumeId, "volume", Map.of("move", move, "pass", Integer.toString(pass)), null,
                "pass " + pass + " of volume " + volumeId + " on node " + nodeId, tx -> nodeId);
    }

    /** Stores a stream request for the node {@code where} names (read in the same write) and wakes its long poll. */
    private Pending open(String subject, String kind, Map<String, String> params, String body, String action,
                         ServerStore.Work<String> where) {
        URI url = self;
        if (url == null) throw new IllegalStateException("streams: this replica has not advertised its URL");
        var request = new StreamRequest(Tokens.id(), subject, kind, params, body, url);
        Instant now = clock.instant();
        var pending = new Pending(request);
        waiting.put(request.id(), pending);
        try {
            pending.nodeId = store.write(action, tx -> {
                String nodeId = where.run(tx);
                NodeRow node = tx.nodes().get(nodeId).orElseThrow(() -> ApiException.unavailable(action
                        + ": no node " + nodeId));
                if (node.down()) {
                    throw ApiException.unavailable(action + ": its node " + node.id() + " is down");
                }
                tx.streams().deleteBefore(now.minus(pickup));
                tx.streams().insert(node.id(), request, replicaId, now);
                tx.nodes().touchAssignments(node.id());
                return node.id();
            });
        } catch (RuntimeException e) {
            waiting.remove(request.id());
            throw e;
        }
        changes.signal(List.of(pending.nodeId));
        return pending;
    }

    /**
     * The stream requests a node's assignments must carry: those not answered, not older than the pickup bound.
     */
    List<StreamRequest> pendingOn(dev.bolero.server.store.Tx tx, String nodeId) throws java.sql.SQLException {
        return tx.streams().on(nodeId, clock.instant().minus(pickup));
    }

    /**
     * Hands the agent's answer to the public request waiting for stream {@code streamId} and blocks until it has
     * relayed it (or its client went away).
     *
     * @throws ApiException {@code not_found} when no public request of node {@code nodeId} waits for that stream
     *     here (it timed out, its client left, or it is on another replica)
     */
    public void answer(String nodeId, String streamId, Answer answer) throws InterruptedException {
        Pending pending = claim(nodeId, streamId);
        pending.answered.complete(answer);
        try {
            pending.relayed.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("relay stream " + streamId + ": " + e.getCause(), e.getCause());
        }
    }

    /**
     * Takes stream {@code streamId} of node {@code nodeId} off the waiting list (and the store): its agent answers.
     * For an interactive stream, whose answer is the agent's WebSocket, the caller pairs the two sockets.
     *
     * @throws ApiException {@code not_found} when no public request of that node waits for that stream here
     */
    public Pending claim(String nodeId, String streamId) {
        Pending pending = waiting.get(streamId);
        if (pending == null || !nodeId.equals(pending.nodeId) || !waiting.remove(streamId, pending)) {
            throw ApiException.notFound("answer stream " + streamId + " of node " + nodeId + ": no one waits for it");
        }
        try {
            store.update("answer stream " + streamId, tx -> tx.streams().delete(streamId));
        } catch (RuntimeException e) {
            log.warn("{} (the request expires by itself)", e.getMessage());
        }
        pending.claimed.complete(null);
        return pending;
    }

    /** A public request's stream; {@link #close} ends it on both sides. */
    public final class Pending implements AutoCloseable {
        private final StreamRequest request;
        private final CompletableFuture<Void> claimed = new CompletableFuture<>();
        private final CompletableFuture<Answer> answered = new CompletableFuture<>();
        private final CompletableFuture<Void> relayed = new CompletableFuture<>();
        private volatile String nodeId;

        private Pending(StreamRequest request) {
            this.request = request;
        }

        /** The stream's id. */
        public String id() {
            return request.id();
        }

        /**
         * Waits for the agent's answer.
         *
         * @throws ApiException {@code unavailable} when the node does not answer within the pickup bound
         */
        public Answer await() throws InterruptedException {
            try {
                Answer answer = answered.get(pickup.toMillis(), TimeUnit.MILLISECONDS);
                Thread.ofVirtual().name("stream-watch-" + request.id()).start(() -> watch(answer));
                return answer;
            } catch (TimeoutException e) {
                if (waiting.remove(request.id(), this)) throw unanswered();
                try {
                    return answered.get();    // the agent took it at the last moment
                } catch (ExecutionException again) {
                    throw new IllegalStateException(again.getCause());
                }
            } catch (ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
        }

        /**
         * Waits until the agent claims the stream (an interactive one, answered by a WebSocket); withdraws it when
         * no agent does within the pickup bound.
         *
         * @throws ApiException {@code unavailable} when the node does not answer within the pickup bound
         */
        public void awaitClaim() throws InterruptedException {
            try {
                claimed.get(pickup.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (waiting.remove(request.id(), this)) throw unanswered();
            } catch (ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
        }

        private ApiException unanswered() {
            return ApiException.unavailable(request.kind() + " of machine " + request.machineId() + ": node "
                    + nodeId + " did not answer within " + pickup.toSeconds() + " s");
        }

        /** Until the stream ends: breaks the agent's upload once its node is down (a dead host sends no reset). */
        private void watch(Answer answer) {
            String action = "watch stream " + request.id() + " of node " + nodeId;
            while (true) {
                try {
                    relayed.get(WATCH.toMillis(), TimeUnit.MILLISECONDS);
                    return;
                } catch (TimeoutException e) {
                    boolean down;
                    try {
                        down = store.read(action, tx -> tx.nodes().get(nodeId).map(n -> n.down())
                                .orElse(true));
                    } catch (RuntimeException failed) {
                        log.warn("{}", failed.getMessage());
                        continue;
                    }
                    if (down) {
                        log.info("stream {} ({} of machine {}): node {} is down, ending it", request.id(),
                                request.kind(), request.machineId(), nodeId);
                        answer.abort().run();
                        return;
                    }
                } catch (InterruptedException | ExecutionException e) {
                    return;
                }
            }
        }

        /** Ends the stream: the agent's request returns, and an unanswered request is withdrawn. */
        @Override
        public void close() {
            relayed.complete(null);
            if (waiting.remove(request.id(), this)) {
                try {
                    store.update("withdraw stream " + request.id(), tx -> tx.streams().delete(request.id()));
                } catch (RuntimeException e) {
                    log.warn("withdraw stream {}: {} (it expires by itself)", request.id(), e.getMessage());
                }
            }
        }
    }
}
