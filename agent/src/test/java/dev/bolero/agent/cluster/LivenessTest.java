package dev.bolero.agent.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** When a node heartbeats and fences, on a fake clock: a poll's accepted report counts as a heartbeat. */
class LivenessTest {
    private static final long S = Duration.ofSeconds(1).toNanos();

    private final AtomicLong now = new AtomicLong(1_000 * S);
    private final Liveness liveness = new Liveness(now::get, Duration.ofSeconds(5), Duration.ofSeconds(20));

    @Test
    void no_heartbeat_is_due_while_polls_carrying_the_report_are_accepted_within_the_interval() {
        for (int i = 0; i < 30; i++) {
            long sent = liveness.sending();
            now.addAndGet(2 * S); // the poll waits, then is answered
            liveness.accepted(sent);
            assertThat(liveness.heartbeatDue()).isFalse();
            assertThat(liveness.fenceDue()).isFalse();
        }
    }

    @Test
    void a_heartbeat_is_due_one_interval_after_the_last_accepted_report_was_sent() {
        long sent = liveness.sending();
        now.addAndGet(3 * S);
        liveness.accepted(sent);

        assertThat(liveness.untilHeartbeatDue()).isEqualTo(2 * S);
        now.addAndGet(2 * S - 1);
        assertThat(liveness.heartbeatDue()).isFalse();
        now.addAndGet(1);
        assertThat(liveness.heartbeatDue()).isTrue();
    }

    @Test
    void a_long_poll_answered_late_counts_from_when_it_was_sent_and_never_moves_the_time_back() {
        long pollSent = liveness.sending();
        now.addAndGet(S);
        long heartbeatSent = liveness.sending();
        liveness.accepted(heartbeatSent);
        now.addAndGet(9 * S);
        liveness.accepted(pollSent); // the long poll sent before the heartbeat answers only now

        assertThat(liveness.untilHeartbeatDue()).isEqualTo(-4 * S);
    }

    @Test
    void the_node_fences_once_no_report_was_accepted_for_longer_than_the_bound() {
        now.addAndGet(20 * S);
        assertThat(liveness.fenceDue()).isFalse();
        now.addAndGet(1);
        assertThat(liveness.fenceDue()).isTrue();

        liveness.accepted(liveness.sending());
        assertThat(liveness.fenceDue()).isFalse();
    }
}
