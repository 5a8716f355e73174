package dev.bolero.agent.machine;

import dev.bolero.api.wire.MachineStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * The node's machine metrics on its {@code /metrics}, once {@linkplain #bind bound} to the registry: how long a run's
 * preparation takes ({@code bolero_machine_prepare_seconds} by outcome) and the image pull in it
 * ({@code bolero_image_pull_seconds} by outcome and source), how long guests take from VMM spawn to a started workload
 * ({@code bolero_machine_boot_seconds}), how runs end ({@code bolero_machine_runs_ended_total} by state and reason),
 * exec sessions ({@code bolero_exec_sessions_total} by kind, {@code bolero_exec_sessions_open}), and each running
 * machine's use, labelled with {@code machine}, {@code namespace} and {@code fleet}
 * ({@code bolero_machine_cpu_seconds_total}, {@code …_memory_bytes}, network and disk counters), read from the
 * {@link UsageSampler}'s latest sample. A machine's meters go when its run ends.
 */
final class MachineMetrics implements MachineHook, ImageHook.PullMeter {
    /** What an exec session is. */
    enum ExecKind {
        /** One command whose output is collected and answered at its end. */
        CALL,
        /** An interactive command whose input and output stream while it runs. */
        STREAM;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A running machine's meters and the labels they were registered with. */
    private record Registered(Tags tags, List<Meter> meters) {}

    private final UsageSampler usage;
    private final Map<String, Instant> spawnedAt = new ConcurrentHashMap<>();
    private final Map<String, Registered> perMachine = new ConcurrentHashMap<>();
    private final AtomicInteger openExecs = new AtomicInteger();
    private final Clock clock;
    private volatile MeterRegistry registry;
    private volatile Function<String, Tags> labelsOf = id -> Tags.of("fleet", "", "namespace", "");

    MachineMetrics(UsageSampler usage, Clock clock) {
        this.usage = usage;
        this.clock = clock;
    }

    /**
     * Starts publishing on {@code registry}; {@code labelsOf} gives a machine's {@code namespace} and {@code fleet}
     * labels (empty when it has none).
     */
    void bind(MeterRegistry registry, Function<String, Tags> labelsOf) {
        this.labelsOf = labelsOf;
        Gauge.builder("bolero.exec.sessions.open", openExecs, AtomicInteger::get)
                .description("Exec sessions whose command still runs").register(registry);
        this.registry = registry;
    }

    @Override
    public void spawned(Run run) {
        spawnedAt.put(run.machineId(), clock.instant());
        MeterRegistry r = registry;
        if (r == null) return;
        String id = run.machineId();
        perMachine.compute(id, (key, old) -> register(r, id, old));
    }

    /**
     * Registers the labels {@code labelsOf} now gives machine {@code id}: its meters, if its run has them, are
     * registered again under them when they changed (its fleet became known after a re-adoption).
     */
    void relabel(String id) {
        MeterRegistry r = registry;
        if (r == null) return;
        perMachine.computeIfPresent(id, (key, old) -> old.tags().equals(tags(id)) ? old : register(r, id, old));
    }

    private Tags tags(String id) {
        return Tags.of("machine", id).and(labelsOf.apply(id));
    }

    /** Machine {@code id}'s meters, registered anew in place of {@code old} (null: none). */
    private Registered register(MeterRegistry r, String id, Registered old) {
        if (old != null) old.meters().forEach(r::remove);
        Tags tags = tags(id);
        var meters = new ArrayList<Meter>();
        meters.add(counter(r, "bolero.machine.cpu.seconds", "CPU time of the machine's VMM since it started", tags, id,
                s -> s.cpu().seconds()));
        meters.add(gauge(r, "bolero.machine.memory.bytes", "Memory charged to the machine's cgroup", tags, id,
                s -> s.memory().bytes()));
        meters.add(gauge(r, "bolero.machine.memory.limit.bytes", "The machine's memory limit (0: none)", tags, id,
                s -> s.memory().limitBytes()));
        meters.add(counter(r, "bolero.machine.network.receive.bytes", "Bytes the guest received on its tap", tags, id,
                s -> s.network().rxBytes()));
        meters.add(counter(r, "bolero.machine.network.transmit.bytes", "Bytes the guest sent on its tap", tags, id,
                s -> s.network().txBytes()));
        meters.add(counter(r, "bolero.machine.network.receive.packets", "Packets the guest received", tags, id,
                s -> s.network().rxPackets()));
        meters.add(counter(r, "bolero.machine.network.transmit.packets", "Packets the guest sent", tags, id,
                s -> s.network().txPackets()));
        meters.add(counter(r, "bolero.machine.disk.read.bytes", "Bytes the machine's VMM read from its drives", tags,
                id, s -> s.disk().readBytes()));
        meters.add(counter(r, "bolero.machine.disk.write.bytes", "Bytes the machine's VMM wrote to its drives", tags,
                id, s -> s.disk().writeBytes()));
        return new Registered(tags, List.copyOf(meters));
    }

    private Gauge gauge(MeterRegistry r, String name, String help, Tags tags, String id,
                        ToDoubleFunction<MachineStats.Sample> value) {
        return Gauge.builder(name, usage, u -> u.latest(id).map(value::applyAsDouble).orElse(Double.NaN))
                .description(help).tags(tags).register(r);
    }

    /** A count since the run's VMM started (Prometheus's {@code _total}); 0 before the first sample. */
    private FunctionCounter counter(MeterRegistry r, String name, String help, Tags tags, String id,
                                    ToDoubleFunction<MachineStats.Sample> value) {
        return FunctionCounter.builder(name, usage, u -> u.latest(id).map(value::applyAsDouble).orElse(0.0))
                .description(help).tags(tags).register(r);
    }

    @Override
    public void prepared(String machineId, Duration took, boolean succeeded) {
        MeterRegistry r = registry;
        if (r == null) return;
        Timer.builder("bolero.machine.prepare").description("Preparing a run: its image, network, volumes and secrets")
                .tag("outcome", succeeded ? "success" : "failure").publishPercentileHistogram().register(r)
                .record(took);
    }

    @Override
    public void pulled(Duration took, ImageHook.Source source, boolean succeeded) {
        MeterRegistry r = registry;
        if (r == null) return;
        Timer.builder("bolero.image.pull").description("Getting a run's image and root drive: from the registry when "
                        + "a layer had to be downloaded, else from the node's cache")
                .tags("outcome", succeeded ? "success" : "failure", "source", source.label())
                .publishPercentileHistogram().register(r).record(took);
    }

    /**
     * Counts an exec session of {@code kind} that opens now; run what this returns when it ends (running it again
     * changes nothing).
     */
    Runnable execOpened(ExecKind kind) {
        MeterRegistry r = registry;
        if (r != null) {
            Counter.builder("bolero.exec.sessions").description("Exec sessions opened, by kind")
                    .tag("kind", kind.label()).register(r).increment();
        }
        openExecs.incrementAndGet();
        var ended = new java.util.concurrent.atomic.AtomicBoolean();
        return () -> {
            if (ended.compareAndSet(false, true)) openExecs.decrementAndGet();
        };
    }

    @Override
    public void started(Run run) {
        Instant spawned = spawnedAt.remove(run.machineId());
        MeterRegistry r = registry;
        if (spawned == null || r == null || run.stopRequested()) return;
        Timer.builder("bolero.machine.boot").description("From the VMM's spawn to the guest's started workload")
                .publishPercentileHistogram().register(r).record(Duration.between(spawned, clock.instant()));
    }

    @Override
    public void ended(Run run, RunEnd end) {
        spawnedAt.remove(run.machineId());
        MeterRegistry r = registry;
        if (r == null) return;
        Counter.builder("bolero.machine.runs.ended").description("Runs of machines that ended, by state and reason")
                .tags("state", end.state().wireName(), "reason", end.reason().wire).register(r).increment();
        unregister(run.machineId());
    }

    @Override
    public void deleted(String machineId) {
        spawnedAt.remove(machineId);
        unregister(machineId);
    }

    private void unregister(String machineId) {
        MeterRegistry r = registry;
        Registered registered = perMachine.remove(machineId);
        if (registered != null && r != null) registered.meters().forEach(r::remove);
    }
}
