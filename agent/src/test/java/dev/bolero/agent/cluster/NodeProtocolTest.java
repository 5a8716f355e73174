package dev.bolero.agent.cluster;

import dev.bolero.core.NodeState;
import dev.bolero.core.Driver;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.wire.Capacity;
import dev.bolero.api.wire.Heartbeat;
import dev.bolero.api.wire.JoinRequest;
import dev.bolero.server.Server;
import dev.bolero.server.ServerConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node protocol against a real server (SQLite), with replicas that do not answer in its list. */
class NodeProtocolTest {
    private static final String JOIN = "join-token-node-protocol-0123456789";
    private static final Capacity CAPACITY = new Capacity(2, 2048);

    @TempDir
    Path dir;

    private Server server;
    private URI live;

    @BeforeEach
    void start() {
        server = Server.start(ServerConfig.of("127.0.0.1", 0, dir)
                .withTokens(Optional.of("admin-token-node-protocol-0123456789"), Optional.of(JOIN)));
        live = URI.create("http://127.0.0.1:" + server.port());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void calls_move_to_the_next_server_when_one_does_not_answer_and_stay_there() throws IOException {
        var protocol = new NodeProtocol(List.of(deadServer(), live));

        var node = protocol.join(JOIN, new JoinRequest("n1", Map.of(), List.of(Driver.QEMU), CAPACITY));

        assertThat(protocol.server()).isEqualTo(live);
        assertThat(protocol.heartbeat(node, new Heartbeat(CAPACITY, List.of(Driver.QEMU), List.of()), Duration.ofSeconds(5))
                .state()).isEqualTo(NodeState.READY);
        assertThat(protocol.assignments(node, 0, 0).machines()).isEmpty();
        assertThat(protocol.server()).isEqualTo(live);
    }

    @Test
    void a_poll_carrying_the_report_answers_a_changed_index_and_nothing_when_its_wait_ends_unchanged() {
        var protocol = new NodeProtocol(List.of(live));
        var node = protocol.join(JOIN, new JoinRequest("n1", Map.of(), List.of(Driver.QEMU), CAPACITY));
        var report = new Heartbeat(CAPACITY, List.of(Driver.QEMU), List.of());

        var first = protocol.reportAndPoll(node, report, 0, 0);
        assertThat(first.assignments()).isPresent();
        assertThat(first.assignments().get().machines()).isEmpty();
        assertThat(first.heldMillis()).as("an answer with assignments").isEmpty();
        var unchanged = protocol.reportAndPoll(node, report, first.assignments().get().index(), 1);
        assertThat(unchanged.assignments()).isEmpty();
        assertThat(unchanged.heldMillis()).as("the server recorded the held poll's end as a heartbeat").isPresent();
        assertThat(unchanged.heldMillis().getAsLong()).isPositive();
    }

    @Test
    void a_refusal_is_not_retried_elsewhere_and_names_the_server_that_refused() throws IOException {
        URI dead = deadServer();
        var protocol = new NodeProtocol(List.of(live, dead));

        assertThatThrownBy(() -> protocol.join("not-the-join-token-0123456789", new JoinRequest("n1", Map.of(),
                List.of(Driver.QEMU), CAPACITY)))
                .isInstanceOf(NodeProtocol.Failure.class)
                .hasMessageStartingWith("join as n1 at " + live + ": HTTP 401");
        assertThat(protocol.server()).isEqualTo(live);
    }

    @Test
    void when_no_server_answers_the_failure_names_the_call_and_the_last_server_tried() throws IOException {
        URI first = deadServer();
        URI second = deadServer();
        var protocol = new NodeProtocol(List.of(first, second));

        assertThatThrownBy(() -> protocol.join(JOIN, new JoinRequest("n1", Map.of(), List.of(Driver.QEMU), CAPACITY)))
                .isInstanceOf(NodeProtocol.Failure.class)
                .hasMessageStartingWith("join as n1 at " + second + ": ");
    }

    /** A loopback URL where nothing listens. */
    private static URI deadServer() throws IOException {
        try (var socket = new ServerSocket(0)) {
            return URI.create("http://127.0.0.1:" + socket.getLocalPort());
        }
    }
}
