package dev.bolero.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ChangesTest {
    @Test
    void theWatchWakesNoPollForAnIndexThisProcessSignalledAndEveryOtherMove() {
        var changes = new Changes();
        changes.signal(List.of("n1", "n2"), 7);
        long n1 = changes.nodeVersion("n1");
        long n2 = changes.nodeVersion("n2");

        // n1 still at the index this process stamped and signalled; n2 moved on by another replica.
        changes.signalMoved(Map.of("n1", 7L, "n2", 8L));

        assertThat(changes.nodeVersion("n1")).isEqualTo(n1);
        assertThat(changes.nodeVersion("n2")).isEqualTo(n2 + 1);
    }

    @Test
    void aPollWokenByAStampedSignalMayTakeItsIndexUntilAnotherSignal() {
        var changes = new Changes();
        assertThat(changes.stampedIndex("n1", changes.nodeVersion("n1"))).isEmpty();

        changes.signal(List.of("n1"), 7);
        long stamped = changes.nodeVersion("n1");
        assertThat(changes.stampedIndex("n1", stamped)).hasValue(7);
        assertThat(changes.stampedIndex("n1", stamped - 1)).isEmpty();

        // A change signalled without its index (or another replica's, through the watch) leaves it unknown.
        changes.signal(List.of("n1"));
        assertThat(changes.stampedIndex("n1", changes.nodeVersion("n1"))).isEmpty();
        changes.signal(List.of("n1"), 8);
        changes.signalMoved(Map.of("n1", 9L));
        assertThat(changes.stampedIndex("n1", changes.nodeVersion("n1"))).isEmpty();
    }

    @Test
    void aNewerIndexThanTheSignalledOneWakesThePoll() throws Exception {
        var changes = new Changes();
        changes.signal(List.of("n1"), 7);
        long seen = changes.nodeVersion("n1");
        var poll = CompletableFuture.runAsync(() -> {
            try {
                changes.awaitNode("n1", seen, Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });

        changes.signalMoved(Map.of("n1", 9L));

        poll.get(10, TimeUnit.SECONDS);
        assertThat(changes.nodeVersion("n1")).isEqualTo(seen + 1);
    }

    @Test
    void anIndexOfAnOlderSignalWakesThePoll() {
        var changes = new Changes();
        changes.signal(List.of("n1"), 7);
        changes.signal(List.of("n1"), 8);
        long seen = changes.nodeVersion("n1");

        changes.signalMoved(Map.of("n1", 7L));

        assertThat(changes.nodeVersion("n1")).isEqualTo(seen + 1);
    }
}
