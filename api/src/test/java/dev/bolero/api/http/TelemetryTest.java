package dev.bolero.api.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.ApiJson;
import dev.bolero.api.testing.ContractHttpClient;
import dev.bolero.api.testing.PrometheusText;
import io.javalin.Javalin;
import io.javalin.json.JavalinJackson3;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

/** The telemetry routes on a real Javalin app, their answers checked against the API's generated document. */
class TelemetryTest {
    private static final Operation DOC = Operation.get("/api/openapi.json").id("getOpenApi").tag("meta")
            .summary("This document").returns(200, ObjectNode.class).anonymous().build();
    private static final Operation ECHO = Operation.get("/api/echo/{id}").id("echo").tag("meta")
            .summary("Echoes").returns(200, Telemetry.Health.class).build();
    private static final List<Operation> ALL = new ArrayList<>(List.of(DOC, ECHO));

    static {
        ALL.addAll(Telemetry.OPERATIONS);
    }

    private final AtomicReference<Optional<String>> notReady = new AtomicReference<>(Optional.of("store unreachable"));
    private Telemetry telemetry;
    private Javalin app;
    private final ContractHttpClient http = new ContractHttpClient("/api/openapi.json");

    @BeforeEach
    void start() {
        telemetry = new Telemetry("test", notReady::get);
        var info = new OpenApi.Info("test", "1", "A test API.", false,
                Map.of("meta", "meta", Telemetry.TAG, Telemetry.TAG_DESCRIPTION), List.of());
        byte[] doc = ApiJson.mapper().writeValueAsBytes(OpenApi.document(info, ALL));
        app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.jsonMapper(new JavalinJackson3(ApiJson.mapper(), true));
            var router = new Router(config, ALL);
            router.handle(DOC, ctx -> ctx.contentType("application/json").result(doc));
            router.handle(ECHO, ctx -> ctx.json(new Telemetry.Health(ctx.pathParam("id"))));
            telemetry.register(config, router);
            router.complete();
        }).start("127.0.0.1", 0);
    }

    @AfterEach
    void stop() {
        app.stop();
        telemetry.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void healthIsAliveAndReadinessFollowsTheProcess() throws Exception {
        assertThat(get("/healthz").body()).isEqualTo("{\"status\":\"alive\"}");
        var notYet = get("/readyz");
        assertThat(notYet.statusCode()).isEqualTo(503);
        assertThat(notYet.body()).contains("\"code\":\"unavailable\"", "not ready: store unreachable");
        notReady.set(Optional.empty());
        assertThat(get("/readyz").body()).isEqualTo("{\"status\":\"ready\"}");
    }

    @Test
    void metricsCountRequestsByOperationAndStatusBesideTheJvmsOwn() throws Exception {
        get("/api/echo/a");
        get("/api/echo/b");
        assertThat(get("/api/nope").statusCode()).as("an unmatched request is answered, and logged").isEqualTo(404);
        telemetry.registry().counter("bolero.test.things").increment(3);

        var metrics = get("/metrics");

        assertThat(metrics.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                .startsWith("text/plain"));
        assertThat(metrics.body()).contains(
                "bolero_http_requests_seconds_count{method=\"GET\",operation=\"echo\",process=\"test\",status=\"200\"} 2",
                "bolero_http_requests_seconds_count{method=\"GET\",operation=\"unmatched\",process=\"test\","
                        + "status=\"404\"} 1",
                "bolero_http_requests_seconds_bucket{method=\"GET\",operation=\"echo\",process=\"test\","
                        + "status=\"200\",le=\"30.0\"} 2",
                "bolero_test_things_total{process=\"test\"} 3.0", "jvm_memory_used_bytes", "process_uptime_seconds",
                "process_files_open_files");
        var parsed = PrometheusText.parse(metrics.body());
        assertThat(parsed.one("bolero_test_things_total", Map.of("process", "test")).value()).isEqualTo(3.0);
        assertThat(parsed.one("bolero_http_requests_seconds_count", Map.of("operation", "echo", "status", "200"))
                .value()).isEqualTo(2.0);
        assertThat(parsed.types()).containsEntry("bolero_http_requests_seconds", "histogram");
    }
}
