package dev.bolero.agent.http;

import dev.bolero.agent.logs.LogQuery;
import dev.bolero.agent.logs.LogStore;
import dev.bolero.agent.machine.MachineService;
import dev.bolero.api.ApiException;
import dev.bolero.api.ApiJson;
import dev.bolero.api.CreateMachineRequest;
import dev.bolero.api.ErrorCode;
import dev.bolero.api.ExecRequest;
import dev.bolero.api.ForkMachineRequest;
import dev.bolero.api.ExecStream;
import dev.bolero.core.MachineState;
import dev.bolero.api.QueryParams;
import dev.bolero.api.http.ClientLimits;
import dev.bolero.api.http.OpenApi;
import dev.bolero.api.http.Router;
import dev.bolero.api.http.Telemetry;
import dev.bolero.core.FieldPath;
import dev.bolero.core.MachineSpec;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import io.javalin.json.JavalinJackson3;
import java.io.IOException;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.EnumSet;
import java.util.Set;
import org.eclipse.jetty.io.EofException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's REST API on Javalin (Jetty 12, a virtual thread per request, so {@code wait} and {@code logs?follow}
 * hold no platform thread). Its operations are declared in {@link NodeRoutes}, and the document built from them is
 * served at {@code /api/v1/openapi.json}. Request bodies are parsed strictly ({@link ApiJson}); every error leaves as
 * {@code {"error": {"code", "message"}}} ({@link Router}).
 */
public final class NodeApi implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeApi.class);
    private static final int MAX_WAIT_S = 3600;

    private final MachineService machines;
    private final LogStore logs;
    private final Javalin app;
    private volatile String host;

    /**
     * The node API over {@code machines} and {@code logs}, its clients held to {@code limits}; {@link #start} serves
     * it.
     */
    public NodeApi(MachineService machines, LogStore logs, NodeInfo node, ImageRoutes images, Telemetry telemetry,
                   ClientLimits limits) {
        this.machines = machines;
        this.logs = logs;
        this.app = Javalin.create(config -> {
            config.concurrency.useVirtualThreads = true;
            config.startup.showJavalinBanner = false;
            // Uncompressed: a compressing stream holds back small writes, and followed logs must flow line by line.
            config.http.compressionStrategy = CompressionStrategy.NONE;
            // Every body here is a request's whole input (JSON, an image archive), so all are held to the rate.
            config.jetty.modifyServer(server -> limits.applyTo(server, request -> false));
            config.jsonMapper(new JavalinJackson3(ApiJson.mapper(), true));
            config.jetty.modifyWebSocketServletFactory(ws -> {
                ws.setMaxTextMessageSize(ExecStream.MAX_MESSAGE);
                ws.setMaxBinaryMessageSize(ExecStream.MAX_MESSAGE);
            });
            byte[] openapi = ApiJson.mapper().writeValueAsBytes(OpenApi.document(NodeRoutes.INFO, NodeRoutes.ALL));
            var r = new Router(config, NodeRoutes.ALL);
            r.handle(NodeRoutes.OPENAPI, ctx -> ctx.contentType("application/json").result(openapi));
            r.handle(NodeRoutes.NODE, node::get);
            r.handle(NodeRoutes.CREATE, this::create);
            r.handle(NodeRoutes.LIST, ctx -> ctx.json(machines.list()));
            r.handle(NodeRoutes.GET, ctx -> ctx.json(machines.get(ctx.pathParam("id"))));
            r.handle(NodeRoutes.START, ctx -> ctx.json(machines.start(ctx.pathParam("id"))));
            r.handle(NodeRoutes.STOP, this::stop);
            r.handle(NodeRoutes.SUSPEND, ctx -> ctx.json(machines.suspend(ctx.pathParam("id"))));
            r.handle(NodeRoutes.FORK, this::fork);
            r.handle(NodeRoutes.DELETE, this::delete);
            r.handle(NodeRoutes.WAIT, this::await);
            r.handle(NodeRoutes.LOGS, this::logs);
            images.register(r);
            r.handle(NodeRoutes.EVENTS, ctx -> ctx.json(machines.events(ctx.pathParam("id"))));
            r.handle(NodeRoutes.STATS, ctx -> ctx.json(machines.stats(ctx.pathParam("id"),
                    Duration.ofSeconds(intParam(ctx, "window_s", 0, 0, 3600)))));
            r.handle(NodeRoutes.EXEC, this::exec);
            r.handle(NodeRoutes.VOLUME_BLOCKS, this::volumeBlocks);
            telemetry.register(config, r);
            r.complete();
            config.routes.ws("/api/v1/machines/{id}/exec",
                    new ExecSocket(machines, ExecSocket.Target.EXEC)::configure);
            config.routes.ws("/api/v1/machines/{id}/attach",
                    new ExecSocket(machines, ExecSocket.Target.ATTACH)::configure);
            config.routes.exception(Exception.class, (e, ctx) -> {
                log.error("{} {} failed", ctx.method(), ctx.path(), e);
                Router.error(ctx, new ApiException(ErrorCode.INTERNAL, ctx.method() + " " + ctx.path() + ": " + e));
            });
        });
    }

    /** Starts serving on {@code host:port} (port 0: any free port). */
    public NodeApi start(String host, int port) {
        app.start(host, port);
        this.host = host;
        return this;
    }

    /** The base URL this node's own processes reach the API at (loopback for a wildcard address). */
    public java.net.URI localUrl() {
        String h = host == null || host.isEmpty() || host.equals("0.0.0.0") ? "127.0.0.1"
                : host.equals("::") ? "[::1]" : host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return java.net.URI.create("http://" + h + ":" + app.port());
    }

    /** The port served on. */
    public int port() {
        return app.port();
    }

    @Override
    public void close() {
        app.stop();
    }

    private void create(Context ctx) {
        CreateMachineRequest request = body(ctx, CreateMachineRequest.class, "create machine");
        ctx.status(201).json(machines.create(request));
    }

    private void fork(Context ctx) throws InterruptedException {
        ForkMachineRequest request = body(ctx, ForkMachineRequest.class, "fork machine " + ctx.pathParam("id"));
        ctx.status(201).json(machines.fork(ctx.pathParam("id"), request.count()));
    }

    private void stop(Context ctx) {
        MachineSpec.Stop request = Router.bodyOr(ctx, MachineSpec.Stop.class, "stop machine " + ctx.pathParam("id"),
                MachineSpec.Stop.AS_CONFIGURED).check(FieldPath.root());
        ctx.json(machines.stop(ctx.pathParam("id"), request));
    }

    private void exec(Context ctx) throws InterruptedException {
        ExecRequest request = body(ctx, ExecRequest.class, "exec in machine " + ctx.pathParam("id"));
        ctx.json(machines.exec(ctx.pathParam("id"), request));
    }

    private void delete(Context ctx) throws InterruptedException {
        machines.delete(ctx.pathParam("id"), booleanParam(ctx, "force"));
        ctx.status(204);
    }

    private void await(Context ctx) throws InterruptedException {
        String stateParam = ctx.queryParam("state");
        if (stateParam == null || stateParam.isBlank()) {
            throw ApiException.invalid("wait: the state parameter is required (e.g. ?state=stopped)");
        }
        Set<MachineState> states = EnumSet.noneOf(MachineState.class);
        for (String s : stateParam.split(",")) states.add(MachineState.parse(s.strip()));
        int timeout = intParam(ctx, "timeout_s", 60, 0, MAX_WAIT_S);
        ctx.json(machines.await(ctx.pathParam("id"), states, Duration.ofSeconds(timeout)));
    }

    private void logs(Context ctx) throws IOException, InterruptedException {
        String id = ctx.pathParam("id");
        machines.get(id);
        boolean follow = booleanParam(ctx, "follow");
        String source = ctx.queryParam("source");
        LogStore.Source src = switch (source == null ? "workload" : source) {
            case "workload" -> LogStore.Source.WORKLOAD;
            case "console" -> LogStore.Source.CONSOLE;
            default -> throw ApiException.invalid("logs: unknown source '" + source + "' (workload or console)");
        };
        OptionalInt tail = ctx.queryParam("tail") == null ? OptionalInt.empty()
                : OptionalInt.of(intParam(ctx, "tail", 0, 0, Integer.MAX_VALUE));
        LogQuery query = new LogQuery(tail, QueryParams.instant("since", ctx.queryParam("since")), booleanParam(ctx, "timestamps"));
        ctx.contentType("text/plain; charset=utf-8");
        ctx.status(200);
        try {
            // The servlet's own stream: Javalin's wrapper holds writes back until the handler returns.
            var out = ctx.res().getOutputStream();
            logs.copy(id, src, query, out, () -> follow && machines.isActive(id));
            out.flush();
        } catch (EofException e) {
            log.debug("logs of machine={}: client went away", id);
        }
    }

    /** Streams one pass of a moving volume's blocks; a cut stream is the receiver's to notice (no digest comes). */
    private void volumeBlocks(Context ctx) throws IOException {
        String id = ctx.pathParam("id");
        String move = ctx.queryParam("move");
        if (move == null || move.isBlank()) throw ApiException.invalid("send volume " + id + ": move is required");
        int pass = intParam(ctx, "pass", 1, 1, Integer.MAX_VALUE);
        ctx.contentType("application/octet-stream");
        ctx.status(200);
        var out = new java.io.BufferedOutputStream(ctx.res().getOutputStream(), 1 << 16);
        try {
            machines.volumes().send(id, move, pass, out);
        } catch (EofException e) {
            log.debug("volume={} move={} pass={}: the receiver went away", id, move, pass);
        }
    }

    static <T> T body(Context ctx, Class<T> type, String action) {
        return Router.body(ctx, type, action);
    }

    static boolean booleanParam(Context ctx, String name) {
        return QueryParams.flag(name, ctx.queryParam(name));
    }

    private static int intParam(Context ctx, String name, int dflt, int min, int max) {
        return QueryParams.wholeNumber(name, ctx.queryParam(name), dflt, min, max);
    }

}
