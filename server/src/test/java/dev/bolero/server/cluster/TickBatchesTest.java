package dev.bolero.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** {@link TickBatches}: items handed in within a tick are written together, each caller gets its own outcome. */
class TickBatchesTest {
    private static final Duration TICK = Duration.ofMillis(300);

    @Test
    void itemsHandedInWithinATickAreWrittenTogetherEachWithItsOwnOutcome() throws Exception {
        var batches = new CopyOnWriteArrayList<List<Integer>>();
        try (var tick = new TickBatches<Integer, String>("test", TICK, 100, batch -> {
            batches.add(batch);
            return batch.stream().map(i -> "item " + i).toList();
        })) {
            var answers = submitAtOnce(tick, 20);
            for (int i = 0; i < 20; i++) assertThat(answers.get(i).get()).isEqualTo("item " + i);
        }
        assertThat(batches.stream().mapToInt(List::size).sum()).isEqualTo(20);
        assertThat(batches.size()).as("batches of %s", batches).isLessThan(20);
    }

    @Test
    void aBatchIsNeverLargerThanItsMaximum() throws Exception {
        var sizes = new CopyOnWriteArrayList<Integer>();
        try (var tick = new TickBatches<Integer, Integer>("test", TICK, 3, batch -> {
            sizes.add(batch.size());
            return batch;
        })) {
            var answers = submitAtOnce(tick, 10);
            for (int i = 0; i < 10; i++) assertThat(answers.get(i).get()).isEqualTo(i);
        }
        assertThat(sizes).allSatisfy(size -> assertThat(size).isBetween(1, 3));
    }

    @Test
    void aFailedWriteFailsEveryItemOfItsBatchAndTheNextBatchGoesOn() throws Exception {
        var failing = new java.util.concurrent.atomic.AtomicBoolean(true);
        try (var tick = new TickBatches<Integer, Integer>("test", Duration.ofMillis(1), 100, batch -> {
            if (failing.getAndSet(false)) throw new IllegalStateException("store down");
            return batch;
        })) {
            assertThatThrownBy(() -> tick.submit("write 1", 1)).hasMessage("store down");
            assertThat(tick.submit("write 2", 2)).isEqualTo(2);
        }
    }

    @Test
    void aWriterAnsweringTheWrongNumberOfOutcomesFailsItsBatch() {
        try (var tick = new TickBatches<Integer, Integer>("test", Duration.ofMillis(1), 100, batch -> List.of())) {
            assertThatThrownBy(() -> tick.submit("write 1", 1)).hasMessage("test: 0 outcomes for 1");
        }
    }

    @Test
    void afterCloseAnItemFailsNamingItsAction() {
        var tick = new TickBatches<Integer, Integer>("test", Duration.ofMillis(1), 100, batch -> batch);
        tick.close();
        assertThatThrownBy(() -> tick.submit("write 1", 1)).isInstanceOf(IllegalStateException.class)
                .hasMessage("test: closed");
    }

    private static <O> List<Future<O>> submitAtOnce(TickBatches<Integer, O> tick, int n) throws InterruptedException {
        var gate = new CountDownLatch(1);
        var answers = new ArrayList<Future<O>>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < n; i++) {
                int item = i;
                answers.add(pool.submit(() -> {
                    gate.await();
                    return tick.submit("write " + item, item);
                }));
            }
            gate.countDown();
        }
        return answers;
    }
}
