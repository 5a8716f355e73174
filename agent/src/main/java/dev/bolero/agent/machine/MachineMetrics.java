package dev.bolero.agent.machine;

import dev.bolero.api.wire.MachineStats;
import io.micrometer.core.instrument.Counter;
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
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * The node's machine metrics on its {@code /metrics}, once {@linkplain #bind bound} to the registry: how long guests
 * take from VMM spawn to a started workload ({@code bolero_machine_boot_seconds}), how runs end
 * ({@code bolero_machine_runs_ended_total} by state and reason), and each running machine's use, labelled with
 * {@code machine} and {@code namespace} ({@code bolero_machine_cpu_seconds}, {@code …_memory_bytes}, network and disk
 * bytes), read from the {@link UsageSampler}'s latest sample. A machine's meters go when its run ends.
 */
final class MachineMetrics implements MachineHook {
    private final UsageSampler usage;
    private final Map<String, Instant> spawnedAt = new ConcurrentHashMap<>();
    private final Map<String, List<Meter>> perMachine = new ConcurrentHashMap<>();
    private final Clock clock;
    private volatile MeterRegistry registry;
    private volatile Function<String, String> namespaceOf = id -> "";

    MachineMetrics(UsageSampler usage, Clock clock) {
        this.usage = usage;
        this.clock = clock;
    }

    /** Starts publishing on {@code registry}; {@code namespaceOf} gives a machine's namespace. */
    void bind(MeterRegistry registry, Function<String, String> namespaceOf) {
        this.namespaceOf = namespaceOf;
        this.registry = registry;
    }

    @Override
    public void spawned(Run run) {
        spawnedAt.put(run.machineId(), clock.instant());
        MeterRegistry r = registry;
        if (r == null) return;
        String id = run.machineId();
        Tags tags = Tags.of("machine", id, "namespace", namespaceOf.apply(id));
        var meters = new ArrayList<Meter>();
        meters.add(gauge(r, "bolero.machine.cpu.seconds", "CPU time of the machine's VMM since it started", tags, id,
                s -> s.cpu().seconds()));
        meters.add(gauge(r, "bolero.machine.memory.bytes", "Memory charged to the machine's cgroup", tags, id,
                s -> s.memory().bytes()));
        meters.add(gauge(r, "bolero.machine.memory.limit.bytes", "The machine's memory limit (0: none)", tags, id,
                s -> s.memory().limitBytes()));
        meters.add(gauge(r, "bolero.machine.network.receive.bytes", "Bytes the guest received on its tap", tags, id,
                s -> s.network().rxBytes()));
        meters.add(gauge(r, "bolero.machine.network.transmit.bytes", "Bytes the guest sent on its tap", tags, id,
                s -> s.network().txBytes()));
        meters.add(gauge(r, "bolero.machine.network.receive.packets", "Packets the guest received", tags, id,
                s -> s.network().rxPackets()));
        meters.add(gauge(r, "bolero.machine.network.transmit.packets", "Packets the guest sent", tags, id,
                s -> s.network().txPackets()));
        meters.add(gauge(r, "bolero.machine.disk.read.bytes", "Bytes the machine's VMM read from its drives", tags, id,
                s -> s.disk().readBytes()));
        meters.add(gauge(r, "bolero.machine.disk.write.bytes", "Bytes the machine's VMM wrote to its drives", tags,
                id, s -> s.disk().writeBytes()));
        Optional.ofNullable(perMachine.put(id, meters)).ifPresent(old -> old.forEach(r::remove));
    }

    private Gauge gauge(MeterRegistry r, String name, String help, Tags tags, String id,
                        ToDoubleFunction<MachineStats.Sample> value) {
        return Gauge.builder(name, usage, u -> u.latest(id).map(value::applyAsDouble).orElse(Double.NaN))
                .description(help).tags(tags).register(r);
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
        List<Meter> meters = perMachine.remove(machineId);
        if (meters != null && r != null) meters.forEach(r::remove);
    }
}
