package dev.bolero.agent.machine;

import dev.bolero.agent.stats.UsageReader;
import dev.bolero.api.wire.MachineStats;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Samples what each running machine uses ({@link UsageReader}) every {@link #INTERVAL} while its VMM runs, and keeps
 * the last {@link #KEPT} of samples: an hour. A run's samples go when it ends (the counters start afresh with the
 * next VMM); a re-adopted VMM is sampled from its adoption on. Reads may come from any thread.
 */
final class UsageSampler implements MachineHook {
    static final Duration INTERVAL = Duration.ofSeconds(10);
    static final Duration KEPT = Duration.ofHours(1);
    private static final int CAPACITY = (int) (KEPT.toSeconds() / INTERVAL.toSeconds());

    private final UsageReader reader;
    private final Clock clock;
    private final Function<String, Optional<String>> tapOf;
    private final Map<String, Sampled> running = new ConcurrentHashMap<>();

    /** The samples of one run, guarded by itself. */
    private record Sampled(long pid, Optional<String> tap, ArrayDeque<MachineStats.Sample> samples) {}

    /**
     * @param tapOf a machine's tap device, when it has a network
     */
    UsageSampler(UsageReader reader, Clock clock, Function<String, Optional<String>> tapOf) {
        this.reader = reader;
        this.clock = clock;
        this.tapOf = tapOf;
    }

    @Override
    public void spawned(Run run) {
        var sampled = new Sampled(run.vmmPid(), tapOf.apply(run.machineId()), new ArrayDeque<>());
        running.put(run.machineId(), sampled);
        sample(run, sampled);
    }

    private void sample(Run run, Sampled sampled) {
        reader.read(sampled.pid(), sampled.tap(), clock.instant()).ifPresent(s -> {
            synchronized (sampled) {
                if (sampled.samples().size() == CAPACITY) sampled.samples().removeFirst();
                sampled.samples().addLast(s);
            }
        });
        run.schedule(INTERVAL, () -> sample(run, sampled));
    }

    @Override
    public void ended(Run run, RunEnd end) {
        running.remove(run.machineId());
    }

    @Override
    public void deleted(String machineId) {
        running.remove(machineId);
    }

    /** Machine {@code machineId}'s latest sample; empty when its VMM does not run or was not sampled yet. */
    Optional<MachineStats.Sample> latest(String machineId) {
        Sampled sampled = running.get(machineId);
        if (sampled == null) return Optional.empty();
        synchronized (sampled) {
            return Optional.ofNullable(sampled.samples().peekLast());
        }
    }

    /**
     * Machine {@code machineId}'s samples of the last {@code window}, oldest first, and a sample taken now; none when
     * its VMM does not run.
     */
    MachineStats stats(String machineId, Duration window) {
        Sampled sampled = running.get(machineId);
        if (sampled == null) return new MachineStats(machineId, List.of());
        Instant now = clock.instant();
        Instant from = now.minus(window);
        var out = new ArrayList<MachineStats.Sample>();
        synchronized (sampled) {
            for (var s : sampled.samples()) if (!s.time().isBefore(from)) out.add(s);
        }
        reader.read(sampled.pid(), sampled.tap(), now).ifPresent(out::add);
        return new MachineStats(machineId, out);
    }
}
