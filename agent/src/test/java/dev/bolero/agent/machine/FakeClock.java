package dev.bolero.agent.machine;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** A clock whose time moves only when a test {@linkplain #advance advances} it; due timers run on the caller's thread. */
final class FakeClock implements Clock {
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");
    private long scheduled;
    private final List<Pending> pending = new ArrayList<>();

    private final class Pending implements Timer {
        final Instant due;
        final long order;
        final Duration delay;
        final Runnable task;

        Pending(Instant due, long order, Duration delay, Runnable task) {
            this.due = due;
            this.order = order;
            this.delay = delay;
            this.task = task;
        }

        @Override
        public void cancel() {
            synchronized (FakeClock.this) {
                pending.remove(this);
            }
        }
    }

    @Override
    public synchronized Instant instant() {
        return now;
    }

    @Override
    public synchronized Timer schedule(Duration delay, Runnable task) {
        Pending p = new Pending(now.plus(delay), scheduled++, delay, task);
        pending.add(p);
        return p;
    }

    /** The delays of the timers not yet run or cancelled, in the order they were scheduled. */
    synchronized List<Duration> pendingDelays() {
        return pending.stream().sorted(Comparator.comparingLong(p -> p.order)).map(p -> p.delay).toList();
    }

    /** Moves time forward by {@code step}, running each timer that falls due, in due order. */
    void advance(Duration step) {
        Instant target;
        synchronized (this) {
            target = now.plus(step);
        }
        while (true) {
            Pending next;
            synchronized (this) {
                Optional<Pending> due = pending.stream().filter(p -> !p.due.isAfter(target))
                        .min(Comparator.<Pending, Instant>comparing(p -> p.due).thenComparingLong(p -> p.order));
                if (due.isEmpty()) {
                    now = target;
                    return;
                }
                next = due.get();
                pending.remove(next);
                now = next.due;
            }
            next.task.run();
        }
    }
}
