package dev.bolero.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class BalancerTest {
    private static final FleetKey FLEET = new FleetKey("alpha", "web");
    private final AtomicLong clock = new AtomicLong();
    private final Balancer balancer = new Balancer(new OutlierPolicy(2, Duration.ofSeconds(5), Duration.ofSeconds(5)), clock::get);

    private static Route route(Concurrency limits, Backend... backends) {
        var route = Route.builder(FLEET).concurrency(limits);
        for (Backend b : backends) {
            route.backend(b);
        }
        return route.build();
    }

    private static Backend backend(String id, boolean healthy) {
        return new Backend(id, "10.0.0.1", 8080, healthy);
    }

    @Test
    void concurrentRequestsNeverPushAMachineOverItsHardLimit() throws Exception {
        Route route = route(new Concurrency(2, 3), backend("m1", true), backend("m2", true));
        Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>(Map.of("m1", new AtomicInteger(), "m2", new AtomicInteger()));
        var worst = new AtomicInteger();
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < 16; t++) {
                threads.submit(() -> {
                    for (int i = 0; i < 2_000; i++) {
                        if (balancer.acquire(route, List.of()) instanceof Balancer.Choice.Chosen chosen) {
                            var count = inFlight.get(chosen.lease().backend.machineId());
                            worst.accumulateAndGet(count.incrementAndGet(), Math::max);
                            Thread.yield();
                            count.decrementAndGet();
                            chosen.lease().release(false);
                        }
                    }
                });
            }
        }
        assertThat(worst.get()).isLessThanOrEqualTo(3);
        assertThat(balancer.activity()).allSatisfy(a -> assertThat(a.outstanding()).isZero());
    }

    @Test
    void aFailingMachineIsEjectedUntilEveryOtherIsEjectedToo() {
        Route route = route(Concurrency.DEFAULT, backend("m1", true), backend("m2", true));
        for (int i = 0; i < 2; i++) {
            var chosen = (Balancer.Choice.Chosen) balancer.acquire(route, List.of("m2"));
            chosen.lease().release(true);
        }
        for (int i = 0; i < 10; i++) {
            var chosen = (Balancer.Choice.Chosen) balancer.acquire(route, List.of());
            assertThat(chosen.lease().backend.machineId()).isEqualTo("m2");
            chosen.lease().release(false);
        }
        // With m2 excluded, only the ejected m1 is left: tried rather than refused.
        var last = (Balancer.Choice.Chosen) balancer.acquire(route, List.of("m2"));
        assertThat(last.lease().backend.machineId()).isEqualTo("m1");
        last.lease().release(false);
        clock.addAndGet(Duration.ofSeconds(5).toNanos());
        assertThat(balancer.activity()).allSatisfy(a -> assertThat(a.ejected()).isFalse());
    }

    @Test
    void unhealthyMachinesAreNeverChosenAndSaturationIsReported() {
        Route route = route(new Concurrency(1, 2), backend("m1", false), backend("m2", true));
        var first = (Balancer.Choice.Chosen) balancer.acquire(route, List.of());
        var second = (Balancer.Choice.Chosen) balancer.acquire(route, List.of());
        assertThat(first.lease().backend.machineId()).isEqualTo("m2");
        assertThat(first.saturated()).isFalse();
        assertThat(second.saturated()).isTrue();
        assertThat(balancer.acquire(route, List.of())).isInstanceOf(Balancer.Choice.AtHardLimit.class);
        assertThat(balancer.acquire(route(Concurrency.DEFAULT, backend("m1", false)), List.of()))
                .isInstanceOf(Balancer.Choice.NoHealthyMachine.class);
    }
}
