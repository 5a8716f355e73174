package dev.bolero.agent.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * When a node heartbeats and fences, on a fake clock: a poll's accepted report counts as a heartbeat, and a poll held
 * by a server that records it stands for heartbeats while it is held.
 */
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

    @Test
    void a_poll_held_by_a_server_that_records_it_stands_for_heartbeats_until_its_wait_and_the_slack_are_over() {
        Duration wait = liveness.heldPollWait().orElseThrow();
        assertThat(wait).isEqualTo(Duration.ofSeconds(8)); // 20 s fencing bound less two 5 s intervals and 2 s
        long sent = liveness.sending();
        liveness.accepted(sent);
        liveness.holding(sent, wait);

        now.addAndGet(wait.toNanos());
        assertThat(liveness.heartbeatDue()).isFalse();
        now.addAndGet(Liveness.SLACK.toNanos());
        assertThat(liveness.heartbeatDue()).as("the held poll's answer is late").isTrue();
    }

    @Test
    void a_held_poll_never_keeps_heartbeats_back_past_two_intervals_before_the_fencing_bound() {
        liveness.holding(liveness.sending() + 5 * S, Duration.ofSeconds(8)); // sent 5 s after the last accepted report

        now.addAndGet(10 * S - 1);
        assertThat(liveness.heartbeatDue()).isFalse();
        now.addAndGet(1);
        assertThat(liveness.heartbeatDue()).isTrue();
    }

    @Test
    void once_the_held_poll_ends_heartbeats_are_due_as_usual() {
        long sent = liveness.sending();
        liveness.holding(sent, Duration.ofSeconds(8));
        now.addAndGet(6 * S);
        assertThat(liveness.heartbeatDue()).isFalse();

        liveness.released();

        assertThat(liveness.heartbeatDue()).isTrue();
    }

    @Test
    void a_held_poll_recorded_at_its_end_counts_that_much_after_it_was_sent_but_never_past_its_answer() {
        long sent = liveness.sending();
        now.addAndGet(8 * S);
        liveness.acceptedHeld(sent, 7_000);
        assertThat(liveness.untilHeartbeatDue()).isEqualTo(4 * S);

        long next = liveness.sending();
        now.addAndGet(2 * S);
        liveness.acceptedHeld(next, 60_000); // more than passed: counts up to now only
        assertThat(liveness.untilHeartbeatDue()).isEqualTo(5 * S);
    }

    @Test
    void no_poll_stands_for_heartbeats_when_the_fencing_bound_leaves_no_room_for_its_wait() {
        var tight = new Liveness(now::get, Duration.ofSeconds(1), Duration.ofSeconds(2));
        assertThat(tight.heldPollWait()).isEmpty();
    }
}
