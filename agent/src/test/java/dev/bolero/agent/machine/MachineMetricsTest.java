package dev.bolero.agent.machine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.agent.stats.UsageReader;
import dev.bolero.api.testing.PrometheusText;
import dev.bolero.core.MachineSpec;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** The node's machine metrics as Prometheus reads them: names, labels, and what a relabel and an exec change. */
class MachineMetricsTest {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, String> fleets = new ConcurrentHashMap<>();
    private final FakeClock clock = new FakeClock();
    private final MachineMetrics metrics = new MachineMetrics(new UsageSampler(new UsageReader(Path.of("/")), clock,
            id -> Optional.empty()), clock);

    MachineMetricsTest() {
        metrics.bind(registry, id -> Tags.of("namespace", "alpha", "fleet", fleets.getOrDefault(id, "")));
    }

    private PrometheusText scrape() {
        return PrometheusText.parse(registry.scrape());
    }

    @Test
    void aRunningMachinesCountersEndInTotalAndMoveToItsFleetOnceItIsKnown() {
        metrics.spawned(run("m1"));
        var before = Map.of("machine", "m1", "namespace", "alpha", "fleet", "");
        assertThat(scrape().one("bolero_machine_cpu_seconds_total", before).value()).as("before any sample").isZero();
        assertThat(scrape().find("bolero_machine_network_transmit_bytes_total", before)).hasSize(1);
        assertThat(scrape().find("bolero_machine_memory_bytes", before)).hasSize(1);

        fleets.put("m1", "web");
        metrics.relabel("m1");
        metrics.relabel("m2"); // no run: nothing to relabel

        var text = scrape();
        assertThat(text.find("bolero_machine_cpu_seconds_total", Map.of("machine", "m1")))
                .singleElement().satisfies(s -> assertThat(s.labels()).containsEntry("fleet", "web"));
        assertThat(text.find("bolero_machine_cpu_seconds_total", Map.of("machine", "m2"))).isEmpty();

        metrics.deleted("m1");
        assertThat(scrape().find("bolero_machine_cpu_seconds_total", Map.of("machine", "m1"))).isEmpty();
    }

    @Test
    void execSessionsAreCountedByKindAndOpenUntilTheirEndWhichCountsOnce() {
        Runnable first = metrics.execOpened(MachineMetrics.ExecKind.CALL);
        metrics.execOpened(MachineMetrics.ExecKind.CALL);
        Runnable stream = metrics.execOpened(MachineMetrics.ExecKind.STREAM);
        first.run();
        first.run();
        stream.run();

        var text = scrape();
        assertThat(text.one("bolero_exec_sessions_total", Map.of("kind", "call")).value()).isEqualTo(2);
        assertThat(text.one("bolero_exec_sessions_total", Map.of("kind", "stream")).value()).isEqualTo(1);
        assertThat(text.one("bolero_exec_sessions_open", Map.of()).value()).isEqualTo(1);
    }

    @Test
    void pullsAndPreparationsAreHistogramsByOutcome() {
        metrics.pulled(Duration.ofMillis(1500), ImageHook.Source.REGISTRY, true);
        metrics.pulled(Duration.ofMillis(3), ImageHook.Source.CACHE, true);
        metrics.prepared("m1", Duration.ofMillis(20), false);

        var text = scrape();
        assertThat(text.types()).containsEntry("bolero_image_pull_seconds", "histogram")
                .containsEntry("bolero_machine_prepare_seconds", "histogram");
        assertThat(text.one("bolero_image_pull_seconds_sum", Map.of("source", "registry", "outcome", "success"))
                .value()).isEqualTo(1.5);
        assertThat(text.one("bolero_image_pull_seconds_count", Map.of("source", "cache")).value()).isEqualTo(1);
        assertThat(text.one("bolero_machine_prepare_seconds_count", Map.of("outcome", "failure")).value())
                .isEqualTo(1);
    }

    /** A run of machine {@code id} that shows its id only. */
    private static MachineHook.Run run(String id) {
        return new MachineHook.Run() {
            @Override
            public String machineId() {
                return id;
            }

            @Override
            public MachineSpec config() {
                throw new UnsupportedOperationException();
            }

            @Override
            public boolean started() {
                return false;
            }

            @Override
            public boolean booted() {
                return false;
            }

            @Override
            public boolean stopRequested() {
                return false;
            }

            @Override
            public void schedule(Duration delay, Runnable action) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void powerOff(String reason) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void failCheck(String reason) {
                throw new UnsupportedOperationException();
            }

            @Override
            public long vmmPid() {
                throw new UnsupportedOperationException();
            }

            @Override
            public Optional<String> address() {
                return Optional.empty();
            }

            @Override
            public Optional<MachineHook.GuestCommands> guest() {
                return Optional.empty();
            }

            @Override
            public void post(Runnable action) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void event(String type, String detail) {
                throw new UnsupportedOperationException();
            }

            @Override
            public java.util.concurrent.CompletableFuture<Void> seed(java.nio.file.Path seed, String action) {
                throw new UnsupportedOperationException();
            }
        };
    }
}
