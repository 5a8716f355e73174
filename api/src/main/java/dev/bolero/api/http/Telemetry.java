package dev.bolero.api.http;

import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * What a serving process tells its operators: Prometheus metrics at {@code /metrics} (each API request's count and
 * latency by operation and status, the JVM's and the process's own, and whatever the process registers on
 * {@link #registry}), liveness at {@code /healthz}, readiness at {@code /readyz}, and a log line per request (logger
 * {@code bolero.requests}). The three routes need no token: they tell nothing about any tenant.
 */
public final class Telemetry implements AutoCloseable {
    /** The tag of the three routes in an API's document. */
    public static final String TAG = "health";
    /** What the tag groups, for the document. */
    public static final String TAG_DESCRIPTION = "Liveness, readiness and Prometheus metrics, for load balancers and "
            + "monitoring; no token needed";

    public static final Operation HEALTH = Operation.get("/healthz").id("getHealth").tag(TAG)
            .summary("Whether the process is alive: 200 while it serves").anonymous().returns(200, Health.class)
            .build();
    public static final Operation READY = Operation.get("/readyz").id("getReadiness").tag(TAG)
            .summary("Whether the process can do its work now (for a server: its store answers; for a node: it has "
                    + "joined its cluster, if it has one): 200, or 503 naming what is missing")
            .anonymous().returns(200, Health.class).errors(503).build();
    public static final Operation METRICS = Operation.get("/metrics").id("getMetrics").tag(TAG)
            .summary("Prometheus metrics, in the text exposition format").anonymous()
            .returnsText(200, "text/plain").build();
    /** The routes every serving process declares beside its own. */
    public static final List<Operation> OPERATIONS = List.of(HEALTH, READY, METRICS);

    /**
     * A health answer.
     *
     * @param status {@code alive} or {@code ready}
     */
    public record Health(String status) {}

    private static final Logger requests = LoggerFactory.getLogger("bolero.requests");
    private static final String UNMATCHED = "unmatched";
    private static final Duration[] BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
        Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10),
        Duration.ofSeconds(30)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final Supplier<Optional<String>> notReady;
    /** The request timers registered so far, by operation, method and status: looked up once each. */
    private final ConcurrentHashMap<TimerKey, Timer> timers = new ConcurrentHashMap<>();

    private record TimerKey(String operation, String method, int status) {}

    /**
     * Telemetry of process {@code process} ({@code server}, {@code agent}: the {@code process} tag of every metric).
     *
     * @param notReady why the process is not ready now, empty when it is; called on every {@code /readyz}, so cheap
     */
    public Telemetry(String process, Supplier<Optional<String>> notReady) {
        this.notReady = notReady;
        registry.config().commonTags("process", process);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    /** Where the process registers its own meters. */
    public MeterRegistry registry() {
        return registry;
    }

    /**
     * Serves the three routes on {@code router} (whose API must declare {@link #OPERATIONS}) and times and logs every
     * request of {@code config}'s app.
     */
    public void register(JavalinConfig config, Router router) {
        router.handle(HEALTH, ctx -> ctx.json(new Health("alive")));
        router.handle(READY, ctx -> {
            Optional<String> missing = notReady.get();
            if (missing.isPresent()) throw new ApiException(ErrorCode.UNAVAILABLE, "not ready: " + missing.get());
            ctx.json(new Health("ready"));
        });
        router.handle(METRICS, ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                .result(registry.scrape()));
        config.requestLogger.http(this::record);
    }

    private void record(Context ctx, Float millis) {
        Operation operation = Router.operation(ctx);
        String id = operation == null ? UNMATCHED : operation.id();
        int status = ctx.statusCode();
        long nanos = (long) (millis * 1_000_000);
        timers.computeIfAbsent(new TimerKey(id, ctx.method().name(), status), this::timer)
                .record(nanos, TimeUnit.NANOSECONDS);
        if (operation != null && OPERATIONS.contains(operation)) return;
        Level level = operation != null && !operation.published() ? Level.DEBUG : Level.INFO; // node heartbeats
        if (!requests.isEnabledForLevel(level)) return;
        requests.atLevel(level).log("{} {} {} {} ms op={} from {}", ctx.method(), ctx.path(), status,
                String.format("%.1f", millis), id, ctx.ip());
    }

    private Timer timer(TimerKey key) {
        return Timer.builder("bolero.http.requests").description("API requests by operation and status")
                .tags("operation", key.operation(), "method", key.method(), "status", Integer.toString(key.status()))
                .serviceLevelObjectives(BUCKETS).register(registry);
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
