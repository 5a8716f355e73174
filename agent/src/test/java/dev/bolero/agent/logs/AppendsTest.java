package dev.bolero.agent.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** A follower waiting on a written file wakes when lines are written, not at its poll (here: an hour). */
class AppendsTest {
    private static final Duration HOUR = Duration.ofHours(1);

    @Test
    void aWaitingFollowerWakesWhenLinesAreWrittenOrTheWriterCloses() {
        var appends = new Appends();
        Path file = Path.of("/machines/m1/workload.log");
        Appends.Signal signal = appends.open(file);

        var woken = waitOn(appends, file, 0);
        signal.fire();
        await().until(woken::isDone);
        assertThat(woken.join()).isEqualTo(1);

        var closing = new CompletableFuture<Long>(); // waits on the signal itself: close may come before its wait
        Thread.ofVirtual().start(() -> {
            try {
                closing.complete(signal.await(1, HOUR));
            } catch (InterruptedException e) {
                closing.completeExceptionally(e);
            }
        });
        appends.close(file);
        await().until(closing::isDone);
        assertThat(appends.open(file)).as("a closed file's signal is gone; a new writer gets a new one")
                .isNotSameAs(signal);
    }

    @Test
    void linesWrittenBeforeTheWaitAreNotWaitedFor() throws Exception {
        var appends = new Appends();
        Path file = Path.of("/machines/m2/workload.log");
        appends.open(file).fire();

        assertThat(appends.await(file, 0, HOUR)).isEqualTo(1);
    }

    private static CompletableFuture<Long> waitOn(Appends appends, Path file, long seen) {
        var done = new CompletableFuture<Long>();
        Thread.ofVirtual().start(() -> {
            try {
                done.complete(appends.await(file, seen, HOUR));
            } catch (InterruptedException e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }
}
